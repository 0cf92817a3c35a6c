"""The Lambda executor: one invocation runs one light task with the same runner, then passes its end on.

Its event is {"job_id", "task_id", "attempt"} (what launchers/lambda_task.py sends, InvocationType Event). No ECS
event follows a Lambda, so the invocation itself does what the completion handler does for a container: settles
the task if the runner could not, and advances the run. The task's output goes to the runner log group, in a
stream of its own (`lambda/<run>/<task>/<attempt>`), where `shiftwork runs logs` finds it, as for a container.
The embedded stack runs the same function in warm worker processes (local/task_executor.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from shiftwork.errors import Conflict, NotFound
from shiftwork.models.workflow import TaskStatus

log = logging.getLogger(__name__)
LAMBDA_MAX_SECONDS = 900.0


def log_stream_of(job_id: str, task_id: str, attempt: int) -> str:
    return f"lambda/{job_id}/{task_id}/{attempt}"


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """The invocation's stdout and stderr (print, C extensions, subprocesses alike) as lines, once it ends."""
    lines: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def _send_logs(stream: str, lines: list[str]) -> None:
    from shiftwork import aws
    from shiftwork.config import get_settings

    settings = get_settings()
    logs = aws.client("logs", settings)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=settings.log_group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line[:200_000]} for line in lines if line] or []
    for start in range(0, len(events), 5000):
        logs.put_log_events(
            logGroupName=settings.log_group, logStreamName=stream, logEvents=events[start : start + 5000]
        )


def run_invocation(event: dict[str, Any], pass_on: bool = True) -> dict[str, Any]:
    """Run the task the event names, unless this is a duplicate; then pass its end on (unless `pass_on` is
    False: the embedded stack's worker leaves that to the stack, which holds the launchers)."""
    from shiftwork.store import tasks

    job_id, task_id, attempt = str(event["job_id"]), str(event["task_id"]), int(event.get("attempt", 1))
    try:
        task = tasks.get(job_id, task_id)
    except NotFound:
        return {"job_id": job_id, "task_id": task_id, "ran": False, "why": "the task is gone"}
    if task.attempt != attempt or task.status != TaskStatus.QUEUED:
        if pass_on:
            _settle_if_stale(job_id, task_id)
        return {"job_id": job_id, "task_id": task_id, "ran": False, "why": f"the task is {task.status}"}
    from shiftwork.runner.task import TaskRunner

    with captured_output() as lines:
        code = TaskRunner(job_id, task_id).run()
    try:
        _send_logs(log_stream_of(job_id, task_id, attempt), lines)
    except Exception:  # the task's end matters more than its log: pass it on regardless
        log.exception("task %s/%s: its output could not be sent to CloudWatch Logs", job_id, task_id)
    if pass_on:
        _settle_if_stale(job_id, task_id, now_dead=True)
        pass_on_end(job_id, task_id)
    return {"job_id": job_id, "task_id": task_id, "ran": True, "exit_code": code}


def settle_ended(job_id: str, task_id: str) -> None:
    """After an invocation: its task FAILED if it did not report, then its end passed on."""
    _settle_if_stale(job_id, task_id, now_dead=True)
    pass_on_end(job_id, task_id)


def _settle_if_stale(job_id: str, task_id: str, now_dead: bool = False) -> None:
    """A task this executor started that did not report: FAILED, once it cannot be running any more."""
    from shiftwork.store import tasks

    task = tasks.get(job_id, task_id)
    if task.status != TaskStatus.IN_PROGRESS or task.executor != "lambda":
        return
    started = (task.start_time or 0) / 1000
    if not now_dead and time.time() - started < (task.timeout_seconds or LAMBDA_MAX_SECONDS) + 60:
        return  # a duplicate event while it still runs
    with contextlib.suppress(Conflict):
        tasks.update(
            job_id,
            task_id,
            [TaskStatus.IN_PROGRESS],
            status=TaskStatus.FAILED,
            status_message="the Lambda executor ended before the task reported",
            end_time=tasks.now_ms(),
        )
    if not now_dead:  # (else the invocation passes it on itself)
        pass_on_end(job_id, task_id)


def pass_on_end(job_id: str, task_id: str) -> None:
    """What the completion handler does when a container stops, for an invocation that ended."""
    from shiftwork.dispatch.aftermath import after_job_ended
    from shiftwork.workflows.advance import launcher_for, task_ended

    task_ended(job_id, task_id, launcher_for())
    from shiftwork.store import jobs

    run = jobs.get(job_id)
    if run.is_terminal:
        after_job_ended(run)  # retry, notify, run-after: as the completion handler does for a run's end


def settle_dead(job_id: str, task_id: str) -> None:
    """The process running the task died (a worker, or a Lambda past its limits): FAILED, then advance."""
    from shiftwork.store import tasks

    with contextlib.suppress(Conflict):
        tasks.update(
            job_id,
            task_id,
            [TaskStatus.QUEUED, TaskStatus.IN_PROGRESS],
            status=TaskStatus.FAILED,
            status_message="the Lambda executor died running the task",
            end_time=tasks.now_ms(),
        )
    pass_on_end(job_id, task_id)
