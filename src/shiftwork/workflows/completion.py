"""A workflow task's container stopped: settle the task if its runner could not, then advance the run."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from shiftwork.config import ENV_TASK_ATTEMPT
from shiftwork.errors import Conflict, NotFound
from shiftwork.models import DescribeJob, Status
from shiftwork.models.workflow import TaskStatus
from shiftwork.store import jobs, tasks

log = logging.getLogger(__name__)


def _attempt_of(detail: dict[str, Any]) -> int | None:
    from shiftwork.dispatch.completion import override_value

    value = override_value(detail, ENV_TASK_ATTEMPT)
    return int(value) if value and value.isdigit() else None


def handle_task_stopped(job_id: str, task_id: str, detail: dict[str, Any]) -> DescribeJob | None:
    """Every delivery of the stop of a task's container: the run as it is after advancing (None if it is gone)."""
    from shiftwork.dispatch.completion import stopped_message
    from shiftwork.workflows.advance import launcher_for, task_ended

    try:
        task = tasks.get(job_id, task_id)
    except NotFound:
        log.info("task %s/%s is gone; its stop is ignored", job_id, task_id)
        return None
    attempt = _attempt_of(detail)
    this_attempt = attempt in (None, task.attempt) and (
        not task.task_arn or not detail.get("taskArn") or task.task_arn == detail["taskArn"]
    )
    if this_attempt and task.status in (TaskStatus.QUEUED, TaskStatus.IN_PROGRESS) and task.map_count is None:
        stopping = jobs.get(job_id).status in (Status.STOPPING, Status.STOPPED)
        status = TaskStatus.STOPPED if stopping else TaskStatus.FAILED
        message = "stopped by user" if stopping else stopped_message(detail)
        with contextlib.suppress(Conflict):  # the runner's own final write won the race
            tasks.update(
                job_id,
                task_id,
                [task.status],
                status=status,
                at_attempt=task.attempt,  # read before: another delivery may have retried it since
                status_message=message,
                end_time=tasks.now_ms(),
            )
    task_ended(job_id, task_id, launcher_for())
    return jobs.get(job_id)
