"""FargateLauncher: one ECS Fargate task per job, the job id in the container's environment.

A workflow run's task gets its own ECS task of the same task definition (`launch_task`): the task's cpu and memory
are RunTask overrides (on the task and on its container), its requested size rounded up to a Fargate size, and the
container's command names the run and the task. The completion handler finds both in the ECS Task State Change
event's `overrides` (SHIFTWORK_JOB_ID and SHIFTWORK_TASK_ID in the container's environment); startedBy is the run.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import ENV_JOB_ID, ENV_TASK_ATTEMPT, ENV_TASK_ID, LOG_STREAM_PREFIX, get_settings
from shiftwork.errors import LaunchError
from shiftwork.launchers.base import LaunchedTask, Launcher

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models import DescribeJob
    from shiftwork.models.resources import Resources
    from shiftwork.models.workflow import DescribeTask


def task_client_token(job_id: str, task_id: str, attempt: int) -> str:
    """RunTask's clientToken for one attempt of one task of a run: 64 hex characters, ECS's limit.

    ECS answers a repeated RunTask with the same token and parameters with the task it started the first time
    (for 24 hours), so a launch retried after a crash between the store's write and RunTask starts no second task.
    """
    key = json.dumps([job_id, task_id, attempt])
    return hashlib.sha256(key.encode()).hexdigest()


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
            **self._common_request(job),
            "clientToken": job.job_id,  # ECS refuses a second task for the same token
            "overrides": {"containerOverrides": [{"name": s.container_name, "environment": environment}]},
            "tags": [{"key": "shiftwork:job_id", "value": job.job_id}],
        }

    def task_request(self, job: DescribeJob, task: DescribeTask) -> dict[str, Any]:
        """RunTask for one task of the run `job`: its size as overrides, its ids in the environment and command."""
        from shiftwork.models.resources import CPU_UNITS, fargate_size  # pydantic: not on a handler's import

        granted = fargate_size(task.requested, field=f"tasks.{task.name}.resources")
        cpu, memory = round(granted.cpu * CPU_UNITS), granted.memory_mb
        environment = {ENV_JOB_ID: job.job_id, ENV_TASK_ID: task.task_id, ENV_TASK_ATTEMPT: str(task.attempt)}
        container = {
            "name": self.settings.container_name,
            # the image's ENTRYPOINT is `python -m shiftwork.runner`: this makes it `... JOB_ID --task TASK_ID`
            "command": [job.job_id, "--task", task.task_id],
            "environment": [{"name": k, "value": v} for k, v in environment.items()],
            "cpu": cpu,
            "memory": memory,
        }
        tags = {"shiftwork:job_id": job.job_id, "shiftwork:task": task.name, "shiftwork:attempt": str(task.attempt)}
        if task.map_index is not None:  # tag values cannot hold fit[3]'s brackets: the index is a tag of its own
            tags["shiftwork:map_index"] = str(task.map_index)
        return {
            **self._common_request(job),
            "clientToken": task_client_token(job.job_id, task.task_id, task.attempt),
            "overrides": {"cpu": str(cpu), "memory": str(memory), "containerOverrides": [container]},
            "tags": [{"key": key, "value": value} for key, value in tags.items()],
        }

    def _common_request(self, job: DescribeJob) -> dict[str, Any]:
        s = self.settings
        return {
            "cluster": s.cluster,
            "taskDefinition": s.task_definition,
            "launchType": "FARGATE",
            "count": 1,
            "startedBy": job.job_id[:36],  # the completion handler's fallback for the job id
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": s.subnets,
                    "securityGroups": s.security_groups,
                    "assignPublicIp": "DISABLED",
                }
            },
        }

    def launch(self, job: DescribeJob) -> LaunchedTask:
        return self._run_task(job.job_id, self.run_task_request(job))

    def launch_task(self, job: DescribeJob, task: DescribeTask) -> LaunchedTask:
        """Start one task of the run `job` in its own Fargate task; the LaunchedTask carries the granted size."""
        from shiftwork.models.resources import fargate_size

        granted = fargate_size(task.requested, field=f"tasks.{task.name}.resources")
        return self._run_task(job.job_id, self.task_request(job, task), granted)

    def _run_task(self, job_id: str, request: dict[str, Any], granted: Resources | None = None) -> LaunchedTask:
        response = aws.client("ecs", self.settings).run_task(**request)
        if response.get("failures") or not response.get("tasks"):
            raise LaunchError(job_id, str(response.get("failures") or "ECS started no task"))
        task_arn = response["tasks"][0]["taskArn"]
        return LaunchedTask(task_arn, log_stream_for(task_arn, self.settings.container_name), granted)

    def stop(self, task_arn: str, reason: str) -> None:
        aws.client("ecs", self.settings).stop_task(cluster=self.settings.cluster, task=task_arn, reason=reason)
