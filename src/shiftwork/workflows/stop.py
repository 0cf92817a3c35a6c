"""Stopping a run: no task starts after it, each running task's container is stopped, the run ends STOPPED."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from shiftwork.errors import Conflict
from shiftwork.models import DescribeJob, Status
from shiftwork.models.workflow import Executor, TaskStatus
from shiftwork.store import jobs, tasks

if TYPE_CHECKING:
    from shiftwork.config import Settings

log = logging.getLogger(__name__)
STOPPABLE = (Status.CREATED, Status.QUEUED, Status.IN_PROGRESS)


def stop_run(run: DescribeJob, settings: Settings) -> DescribeJob:
    """STOPPING first (no claim passes after it), then each task: pending ones STOPPED, running ones signalled."""
    from shiftwork.launchers import FargateLauncher
    from shiftwork.workflows.advance import launcher_for, task_ended

    if run.status not in STOPPABLE:
        raise Conflict(run.job_id, run.status.value, "|".join(s.value for s in STOPPABLE))
    if run.status == Status.CREATED:  # not dispatched: nothing of it runs
        return jobs.update(
            run.job_id,
            [Status.CREATED],
            status=Status.STOPPED,
            status_message="stopped by user",
            end_time=jobs.now_ms(),
        )
    run = jobs.update(run.job_id, [run.status], status=Status.STOPPING)
    ended = []
    for task in tasks.list_for(run.job_id):
        if task.status == TaskStatus.PENDING or (task.status == TaskStatus.QUEUED and not task.task_arn):
            try:
                tasks.update(
                    run.job_id,
                    task.task_id,
                    [task.status],
                    status=TaskStatus.STOPPED,
                    status_message="stopped by user",
                    end_time=tasks.now_ms(),
                )
                ended.append(task.task_id)
            except Conflict:
                pass
        elif task.status in (TaskStatus.QUEUED, TaskStatus.IN_PROGRESS) and task.task_arn:
            if task.executor == Executor.LAMBDA:
                log.info("task %s runs in a Lambda, which cannot be stopped: it ends on its own", task.task_id)
                continue
            FargateLauncher(settings).stop(task.task_arn, "Stopped by user (shiftwork job stop)")
    for task_id in ended:
        task_ended(run.job_id, task_id, launcher_for())
    from shiftwork.workflows.advance import end_if_done

    return end_if_done(run.job_id) or _end_if_never_opened(run.job_id)


def _end_if_never_opened(job_id: str) -> DescribeJob:
    """A run its start never opened (the dispatcher died before start_run) has nothing that will end it: end it.

    Safe however a start races this: start_run claims a task only after opening the run, and only while it is live.
    """
    run = jobs.get(job_id)
    if run.tasks_open is not None or run.status != Status.STOPPING:
        return run
    try:
        return jobs.update(
            job_id, [Status.STOPPING], status=Status.STOPPED, status_message="stopped by user", end_time=jobs.now_ms()
        )
    except Conflict:
        return jobs.get(job_id)


def abandon_run(run: DescribeJob, message: str) -> None:
    """A run whose runners were lost with their stack: its unfinished tasks FAILED (settled), then the run FAILED.

    A partial rerun (`shiftwork runs rerun RUN`) reuses what it completed.
    """
    from shiftwork.models.workflow import TASK_TERMINAL

    now = tasks.now_ms()
    for task in tasks.list_for(run.job_id):
        if task.status in TASK_TERMINAL:
            continue
        with contextlib.suppress(Conflict):
            tasks.update(
                run.job_id,
                task.task_id,
                [task.status],
                status=TaskStatus.FAILED,
                status_message=message,
                end_time=now,
                settled=True,
            )
    with contextlib.suppress(Conflict):
        jobs.update(run.job_id, [run.status], status=Status.FAILED, status_message=message, end_time=now)
