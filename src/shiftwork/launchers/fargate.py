"""FargateLauncher: one ECS Fargate task per job, the job id in the container's environment."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import ENV_JOB_ID, ENV_TASK_ATTEMPT, ENV_TASK_ID, LOG_STREAM_PREFIX, get_settings
from shiftwork.errors import LaunchError
from shiftwork.launchers.base import LaunchedTask, Launcher

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models import DescribeJob
    from shiftwork.models.workflow import DescribeTask


def log_stream_for(task_arn: str, container_name: str) -> str:
    """The awslogs driver's stream name: prefix/container/task-id."""
    return f"{LOG_STREAM_PREFIX}/{container_name}/{task_arn.rsplit('/', 1)[-1]}"


class FargateLauncher(Launcher):
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def container_environment(self, job: DescribeJob) -> dict[str, str]:
        """What the container gets on top of its task definition: the job id."""
        return {ENV_JOB_ID: job.job_id}

    def run_task_request(self, job: DescribeJob) -> dict[str, Any]:
        s = self.settings
        environment = [{"name": k, "value": v} for k, v in self.container_environment(job).items()]
        return {
            "cluster": s.cluster,
            "taskDefinition": s.task_definition,
            "launchType": "FARGATE",
            "count": 1,
            "startedBy": job.job_id[:36],
            "clientToken": job.job_id,  # ECS refuses a second task for the same token
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": s.subnets,
                    "securityGroups": s.security_groups,
                    "assignPublicIp": "DISABLED",
                }
            },
            "overrides": {"containerOverrides": [{"name": s.container_name, "environment": environment}]},
            "tags": [{"key": "shiftwork:job_id", "value": job.job_id}],
        }

    def task_request(self, job: DescribeJob, task: DescribeTask) -> dict[str, Any]:
        """RunTask for one task of a run (interim: the fargate branch gives the sizing)."""
        request = self.run_task_request(job)
        container = request["overrides"]["containerOverrides"][0]
        container["environment"] += [
            {"name": ENV_TASK_ID, "value": task.task_id},
            {"name": ENV_TASK_ATTEMPT, "value": str(task.attempt)},
        ]
        container["command"] = ["python", "-m", "shiftwork.runner", job.job_id, "--task", task.task_id]
        request["clientToken"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{job.job_id}/{task.task_id}/{task.attempt}"))
        return request

    def launch_task(self, job: DescribeJob, task: DescribeTask) -> LaunchedTask:
        response = aws.client("ecs", self.settings).run_task(**self.task_request(job, task))
        if response.get("failures") or not response.get("tasks"):
            raise LaunchError(job.job_id, str(response.get("failures") or "ECS started no task"))
        task_arn = response["tasks"][0]["taskArn"]
        return LaunchedTask(task_arn, log_stream_for(task_arn, self.settings.container_name), task.requested)

    def launch(self, job: DescribeJob) -> LaunchedTask:
        response = aws.client("ecs", self.settings).run_task(**self.run_task_request(job))
        if response.get("failures") or not response.get("tasks"):
            raise LaunchError(job.job_id, str(response.get("failures") or "ECS started no task"))
        task_arn = response["tasks"][0]["taskArn"]
        return LaunchedTask(task_arn, log_stream_for(task_arn, self.settings.container_name))

    def stop(self, task_arn: str, reason: str) -> None:
        aws.client("ecs", self.settings).stop_task(cluster=self.settings.cluster, task=task_arn, reason=reason)
