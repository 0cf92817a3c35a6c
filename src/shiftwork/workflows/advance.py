"""Advancing a workflow run: start it, pass each task's end on to its dependents exactly once, end the run.

Every step is a conditional write, so any number of deliveries of a start or of a task's end, in any order, and a
handler that dies half way and is delivered again, launch each task once (see store/tasks.py):
- start_run: make the run's task records (put if absent), open the run (its count of open tasks, once), claim and
  launch the roots.
- task_ended: a failed attempt with retries left is queued again; else the task is settled (its dependents' counts
  and the run's, one transaction, once), then each dependent is examined: claimed and launched when no input is
  pending, UPSTREAM_FAILED when an input failed, expanded into instances when it is mapped; a mapped task ends
  when its instances have. The run ends (one conditional write) when its count of open tasks reaches 0.
Light imports only: this runs in the dispatch and complete Lambdas.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from shiftwork.errors import Conflict, LaunchError, NotFound
from shiftwork.models import DescribeJob, Status
from shiftwork.models.workflow import (
    REF,
    DescribeTask,
    Executor,
    TaskStatus,
    WorkflowSpec,
    instance_id,
)
from shiftwork.store import jobs, tasks
from shiftwork.workflows.build import build_tasks, load_spec, original_tasks

if TYPE_CHECKING:
    from shiftwork.launchers import Launcher

log = logging.getLogger(__name__)

LauncherFor = Callable[[Executor], "Launcher"]
_ENDED = (TaskStatus.FAILED, TaskStatus.STOPPED, TaskStatus.UPSTREAM_FAILED)


def launcher_for(default: Launcher | None = None) -> LauncherFor:
    """Fargate tasks on `default` (the process's launcher if None), Lambda tasks on the task executor."""
    from shiftwork.launchers import default_launcher, task_executor

    def pick(executor: Executor) -> Launcher:
        if executor == Executor.LAMBDA:
            return task_executor()
        return default or default_launcher()

    return pick


def start_run(job: DescribeJob, launchers: LauncherFor) -> DescribeJob:
    """A QUEUED run: its task records (made once), its open count (set once), its ready tasks launched."""
    spec = load_spec(job)
    original = original_tasks(job)
    tasks.put_missing(build_tasks(job, spec, original))
    records = tasks.list_for(job.job_id)
    tasks.open_run(job.job_id, sum(1 for task in records if not task.settled))
    run = jobs.get(job.job_id)
    _advance(
        run,
        spec,
        [task.task_id for task in records if task.status in (TaskStatus.PENDING, TaskStatus.QUEUED)],
        launchers,
    )
    return end_if_done(job.job_id) or jobs.get(job.job_id)


def task_ended(job_id: str, task_id: str, launchers: LauncherFor) -> DescribeJob | None:
    """Pass a task's end on (the completion handler, for every delivery of its container's stop)."""
    run = jobs.get(job_id)
    spec = load_spec(run)
    _advance(run, spec, [task_id], launchers)
    return end_if_done(job_id)


def _advance(run: DescribeJob, spec: WorkflowSpec, task_ids: list[str], launchers: LauncherFor) -> None:
    """Examine each task, and what its examination touched, until nothing changes."""
    work: deque[tuple[str, bool]] = deque((task_id, False) for task_id in task_ids)
    while work:
        task_id, by_instance = work.popleft()
        try:
            task = tasks.get(run.job_id, task_id)
        except NotFound:
            continue  # an instance not made yet: its mapped task makes it
        if by_instance and task.status == TaskStatus.IN_PROGRESS and task.pending_inputs > 0:
            continue  # one of its instances ended; the others are still running
        # depth first: what a step touched is examined before the rest, so a claimed task is launched at once
        # (a fan-out's first instance starts while the others are still being claimed, not after them all)
        touched = [(name, _is_instance(task)) for name in _examine(run, spec, task, launchers)]
        work.extendleft(reversed(touched))


def _is_instance(task: DescribeTask) -> bool:
    return task.map_index is not None


def _examine(run: DescribeJob, spec: WorkflowSpec, task: DescribeTask, launchers: LauncherFor) -> list[str]:
    """Take the one step the task's state calls for; the tasks that step may have changed."""
    if task.status == TaskStatus.PENDING:
        if task.failed_inputs > 0:
            return _mark(task, TaskStatus.UPSTREAM_FAILED, "an input failed: " + ", ".join(task.upstream))
        if task.pending_inputs > 0:
            return []
        if not tasks.claim(task.job_id, task.task_id):
            current = tasks.get(task.job_id, task.task_id)
            if current.status == TaskStatus.PENDING and jobs.get(run.job_id).status not in tasks.LIVE_RUN:
                return _mark(current, TaskStatus.STOPPED, "the run was stopped")
            return [] if current.status == TaskStatus.PENDING else [task.task_id]
        return [task.task_id]
    if task.status == TaskStatus.QUEUED:
        if spec.task(task.name).map_argument is not None and task.map_index is None:
            return _expand(run, spec, task, launchers)
        if not task.task_arn:  # claimed, or queued for a retry: whoever claims its launch launches it
            return _launch(run, task, launchers)
        return []
    if task.status == TaskStatus.IN_PROGRESS and task.map_count is not None:
        return _mapped_progress(run, spec, task, launchers)
    if task.is_terminal and not task.settled:
        if task.status == TaskStatus.FAILED and task.attempt < task.max_attempts and _run_live(run.job_id):
            return _retry(task)
        tasks.settle(task)
        return [*_fed_by(task)]
    if task.is_terminal:
        return [*_fed_by(task)]  # settled by a delivery that died before examining what it fed: do it now
    return []


def _fed_by(task: DescribeTask) -> list[str]:
    return [task.name] if task.map_index is not None else list(task.downstream)


def _run_live(job_id: str) -> bool:
    return jobs.get(job_id).status in tasks.LIVE_RUN


def _mark(task: DescribeTask, status: TaskStatus, message: str) -> list[str]:
    with contextlib.suppress(Conflict):  # another delivery moved it first: examine what it is now
        tasks.update(
            task.job_id,
            task.task_id,
            [TaskStatus.PENDING],
            status=status,
            status_message=message,
            end_time=tasks.now_ms(),
        )
    return [task.task_id]


def _retry(task: DescribeTask) -> list[str]:
    """Queue the next attempt of a failed task (one delivery wins the write); it is launched when examined."""
    try:
        tasks.update(
            task.job_id,
            task.task_id,
            [TaskStatus.FAILED],
            status=TaskStatus.QUEUED,
            at_attempt=task.attempt,  # not again once another delivery's retry has failed too
            attempt=task.attempt + 1,
            task_arn=None,
            log_stream=None,
            provision_time=None,  # the new attempt's launch is not claimed yet
            start_time=None,
            end_time=None,
            submit_time=tasks.now_ms(),
            status_message=f"retry {task.attempt} of {task.max_attempts - 1}: {task.status_message or 'failed'}",
        )
        log.info("task %s/%s failed (attempt %d): retrying", task.job_id, task.task_id, task.attempt)
    except Conflict:
        pass
    return [task.task_id]


def _launch(run: DescribeJob, task: DescribeTask, launchers: LauncherFor) -> list[str]:
    """Start the task's container (or Lambda), once; a launch that fails fails the task, saying why.

    Every delivery that finds the task QUEUED gets here: only the one that claims the launch calls the launcher.
    """
    if not tasks.claim_launch(task.job_id, task.task_id, task.attempt):
        if not _run_live(run.job_id):  # queued (a retry's write) as the run stopped: stop it, or the run never ends
            return _stop_queued(task)
        return []  # another delivery launches this attempt (or did)
    try:
        launched = launchers(task.executor).launch_task(run, task)
    except LaunchError as error:
        with contextlib.suppress(Conflict):
            tasks.update(
                task.job_id,
                task.task_id,
                [TaskStatus.QUEUED, TaskStatus.IN_PROGRESS],
                status=TaskStatus.FAILED,
                status_message=str(error),
                end_time=tasks.now_ms(),
            )
        return [task.task_id]
    except BaseException:
        tasks.release_launch(task.job_id, task.task_id, task.attempt)  # the handler fails; its retry launches
        raise
    resources = launched.resources.model_dump() if launched.resources else None
    tasks.record_launch(
        task.job_id,
        task.task_id,
        task.attempt,
        task_arn=launched.task_arn,
        log_stream=launched.log_stream or None,
        resources=resources,
    )
    return []


def _stop_queued(task: DescribeTask) -> list[str]:
    with contextlib.suppress(Conflict):  # another delivery (or the stop) moved it first
        tasks.update(
            task.job_id,
            task.task_id,
            [TaskStatus.QUEUED],
            status=TaskStatus.STOPPED,
            at_attempt=task.attempt,
            status_message="the run was stopped",
            end_time=tasks.now_ms(),
        )
    return [task.task_id]


def _expand(run: DescribeJob, spec: WorkflowSpec, task: DescribeTask, launchers: LauncherFor) -> list[str]:
    """A claimed mapped task: one instance per element of the list it maps over (known now: its input ended)."""
    from shiftwork.models.workflow import MAX_MAP_INSTANCES

    source_name = spec.task(task.name).arguments[spec.task(task.name).map_argument or ""][REF]
    source = tasks.get(task.job_id, source_name)
    count = source.map_count if source.map_count is not None else source.result_length
    if count is None:
        return _fail_queued(task, f"maps over {source_name}, whose result is not a list")
    if count > MAX_MAP_INSTANCES:
        return _fail_queued(
            task, f"{source_name} gave {count} items: a mapped task makes at most {MAX_MAP_INSTANCES} instances"
        )
    tasks.expand(task, count)
    return [task.task_id]


def _fail_queued(task: DescribeTask, message: str) -> list[str]:
    """A queued task that cannot run, FAILED saying why (once: a duplicate delivery finds it failed)."""
    with contextlib.suppress(Conflict):
        tasks.update(
            task.job_id,
            task.task_id,
            [TaskStatus.QUEUED],
            status=TaskStatus.FAILED,
            status_message=message,
            end_time=tasks.now_ms(),
        )
    return [task.task_id]


def _mapped_progress(run: DescribeJob, spec: WorkflowSpec, task: DescribeTask, launchers: LauncherFor) -> list[str]:
    """A mapped task running its instances: make any not made yet, start the ready ones, end it when they have."""
    count = task.map_count or 0
    if task.pending_inputs <= 0:
        failed = task.failed_inputs
        status = TaskStatus.COMPLETED if failed == 0 else TaskStatus.FAILED
        message = None if failed == 0 else f"{failed} of {count} instances did not complete"
        with contextlib.suppress(Conflict):
            tasks.update(
                task.job_id,
                task.task_id,
                [TaskStatus.IN_PROGRESS],
                status=status,
                status_message=message,
                end_time=tasks.now_ms(),
                result_length=count,
            )
        return [task.task_id]
    instances = [_instance(task, index) for index in range(count)]
    tasks.put_missing(instances)
    return [instance.task_id for instance in instances]


def _instance(template: DescribeTask, index: int) -> DescribeTask:
    return template.model_copy(
        update={
            "task_id": instance_id(template.name, index),
            "status": TaskStatus.PENDING,
            "pending_inputs": 0,
            "failed_inputs": 0,
            "downstream": [],
            "map_index": index,
            "map_count": None,
            "submit_time": None,
            "start_time": None,
            "end_time": None,
        }
    )


def end_if_done(job_id: str) -> DescribeJob | None:
    """The run's end, once all its tasks settled: the one write that moves it (and frees its slot) returns it."""
    run = jobs.get(job_id)
    if run.is_terminal or run.tasks_open is None or run.tasks_open > 0:
        return None
    failed = run.tasks_failed or 0
    if run.status == Status.STOPPING:
        status, message = Status.STOPPED, "stopped by user"
    elif failed:
        status, message = Status.FAILED, _failure_summary(job_id, failed)
    else:
        status, message = Status.COMPLETED, None
    try:
        return jobs.update(
            job_id,
            [Status.QUEUED, Status.IN_PROGRESS, Status.STOPPING],
            status=status,
            status_message=message,
            end_time=jobs.now_ms(),
        )
    except Conflict:
        return None


def _failure_summary(job_id: str, failed: int) -> str:
    records = tasks.list_for(job_id)
    names = [t.task_id for t in records if t.status == TaskStatus.FAILED and t.map_count is None]
    first = next((t for t in records if t.status == TaskStatus.FAILED and t.map_count is None), None)
    why = f" ({first.status_message})" if first and first.status_message else ""
    return f"{failed} of {len(records)} tasks did not complete; failed: {', '.join(names[:5]) or 'none'}{why}"[:1000]
