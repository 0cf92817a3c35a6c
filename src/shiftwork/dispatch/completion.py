"""When a runner's task stops: settle the job if the runner could not (crash, OOM, kill, stop)."""

from __future__ import annotations

import logging
from typing import Any

from shiftwork.config import ENV_JOB_ID, ENV_TASK_ID
from shiftwork.errors import Conflict, NotFound
from shiftwork.models import DescribeJob, Status
from shiftwork.store import jobs

log = logging.getLogger(__name__)


def override_value(detail: dict[str, Any], name: str) -> str | None:
    """A variable the launcher set in the task's container overrides (what the ECS event carries back)."""
    for override in detail.get("overrides", {}).get("containerOverrides", []):
        for variable in override.get("environment", []):
            if variable.get("name") == name:
                return str(variable["value"])
    return None


def job_id_of(detail: dict[str, Any]) -> str | None:
    """The job id from the task's container overrides (what the launcher set), else startedBy."""
    return override_value(detail, ENV_JOB_ID) or detail.get("startedBy")


def task_id_of(detail: dict[str, Any]) -> str | None:
    """The workflow task the container ran, if it ran one (the launcher sets it in the overrides)."""
    return override_value(detail, ENV_TASK_ID)


def stopped_message(detail: dict[str, Any]) -> str:
    """Why the task stopped, as ECS tells it: the task's reason, the container's exit code and reason."""
    reason = detail.get("stoppedReason") or "the task stopped"
    notes = []
    for container in detail.get("containers", []):
        if container.get("exitCode") is not None:
            notes.append(f"exit code {container['exitCode']}")
        if container.get("reason"):
            notes.append(container["reason"])
    suffix = f" ({'; '.join(notes)})" if notes else ""
    return f"runner stopped before reporting: {reason}{suffix}"


def handle_task_state_change(detail: dict[str, Any]) -> DescribeJob | None:
    """Handle the `detail` of an ECS Task State Change event; duplicates and late arrivals change nothing."""
    if detail.get("lastStatus") != "STOPPED":
        return None
    job_id = job_id_of(detail)
    if not job_id:
        log.warning("task %s carries no job id; ignored", detail.get("taskArn"))
        return None
    task_id = task_id_of(detail)
    if task_id:
        from shiftwork.workflows.completion import handle_task_stopped

        return handle_task_stopped(job_id, task_id, detail)
    try:
        job = jobs.get(job_id)
    except NotFound:
        log.info("job %s was deleted; task %s ignored", job_id, detail.get("taskArn"))
        return None
    if job.task_arn and detail.get("taskArn") and job.task_arn != detail["taskArn"]:
        return job  # an event for another attempt's task
    now = jobs.now_ms()
    try:
        if job.status == Status.STOPPING:
            return jobs.update(
                job_id, [Status.STOPPING], status=Status.STOPPED, status_message="stopped by user", end_time=now
            )
        if job.status in (Status.CREATED, Status.QUEUED, Status.IN_PROGRESS):
            return jobs.update(
                job_id,
                [job.status],
                status=Status.FAILED,
                status_message=stopped_message(detail),
                end_time=now,
            )
    except Conflict:
        return jobs.get(job_id)  # the runner's own final write won the race
    return job
