"""Repository of a workflow run's tasks. Every change a duplicate or late event could repeat is conditional.

A task's end reaches its dependents and its run once: `settle` marks it settled, takes one off each dependent's
count of pending inputs (and adds one to its failed inputs if it did not complete) and one off the run's open
tasks, all in one transaction that only a task not yet settled passes. Whoever then finds a dependent with no
pending input claims it (PENDING -> QUEUED, a conditional write) and only the claimer launches it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import CancellationReason, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shiftwork.errors import Conflict, NotFound
from shiftwork.models import Status
from shiftwork.models.workflow import DescribeTask, TaskStatus
from shiftwork.store.tables import JobRecord, TaskRecord, bound
from shiftwork.store.transactions import condition_failed, transact

_CONDITION_FAILED = "ConditionalCheckFailedException"
LIVE_RUN = (Status.QUEUED, Status.IN_PROGRESS)  # a run whose tasks may still be launched
LAUNCH_LEASE_MS = 60_000  # a launch claimed this long ago with no task recorded died with its handler


def now_ms() -> int:
    return int(time.time() * 1000)


def _table() -> type[TaskRecord]:
    return bound(TaskRecord)  # type: ignore[return-value]


def _jobs() -> type[JobRecord]:
    return bound(JobRecord)  # type: ignore[return-value]


def _to_dto(record: TaskRecord) -> DescribeTask:
    return DescribeTask.model_validate(record.attribute_values)


def _record(task: DescribeTask) -> TaskRecord:
    return _table()(**task.model_dump(exclude_none=True, mode="json"))


def put_missing(tasks: Iterable[DescribeTask]) -> int:
    """Store each task unless its run already has it (a redelivered start); how many were new."""
    table = _table()
    made = 0
    for task in tasks:
        try:
            _record(task).save(condition=table.task_id.does_not_exist())
            made += 1
        except PutError as error:
            if error.cause_response_code != _CONDITION_FAILED:
                raise
    return made


def get(job_id: str, task_id: str) -> DescribeTask:
    try:
        return _to_dto(_table().get(job_id, task_id, consistent_read=True))
    except DoesNotExist as error:
        raise NotFound("task", f"{job_id}/{task_id}") from error


def list_for(job_id: str) -> list[DescribeTask]:
    """Every task of the run (all pages, consistent), in task id order."""
    return [_to_dto(record) for record in _table().query(job_id, consistent_read=True)]


def update(
    job_id: str,
    task_id: str,
    expected: Iterable[TaskStatus],
    *,
    status: TaskStatus | None = None,
    at_attempt: int | None = None,
    **changes: Any,
) -> DescribeTask:
    """Apply `changes` (and `status`) only if the task is in one of `expected` (and at attempt `at_attempt`, if
    given); else Conflict. None removes."""
    table = _table()
    expected = [TaskStatus(s) for s in expected]
    values = dict(changes)
    if status is not None:
        values["status"] = TaskStatus(status).value
    actions: list[Action] = [
        getattr(table, name).remove() if value is None else getattr(table, name).set(value)
        for name, value in values.items()
    ]
    condition = table.task_id.exists() & table.status.is_in(*[s.value for s in expected])
    if at_attempt is not None:  # a write decided on what one attempt did must not land on the next
        condition &= table.attempt == at_attempt
    record = table(job_id, task_id)
    try:
        record.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        current = get(job_id, task_id)
        raise Conflict(f"{job_id}/{task_id}", current.status.value, "|".join(expected)) from error
    return _to_dto(record)


def record_launch(job_id: str, task_id: str, attempt: int, **fields: Any) -> bool:
    """Record the attempt's container (task_arn, log_stream, resources, provision_time); False if it moved on."""
    table = _table()
    actions = [getattr(table, name).set(value) for name, value in fields.items() if value is not None]
    try:
        table(job_id, task_id).update(actions=actions, condition=table.attempt == attempt)
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        return False
    return True


def claim(job_id: str, task_id: str, **fields: Any) -> bool:
    """PENDING with no pending input -> QUEUED, only while the run is live; True for the one caller that did it."""
    table, jobs_table = _table(), _jobs()
    ready = (table.status == TaskStatus.PENDING.value) & (table.pending_inputs <= 0)
    values = {"status": TaskStatus.QUEUED.value, "submit_time": now_ms(), **fields}
    actions = [getattr(table, name).set(value) for name, value in values.items()]

    def write(transaction: TransactWrite) -> None:
        transaction.update(table(job_id, task_id), actions=actions, condition=ready)
        transaction.condition_check(JobRecord, job_id, condition=jobs_table.status.is_in(*[s.value for s in LIVE_RUN]))

    return _passed(transact(write), f"claiming task {job_id}/{task_id}")


def _passed(reasons: list[CancellationReason | None], what: str) -> bool:
    """True if the transaction committed, False if a condition failed; else it raises (the event comes again).

    A transaction DynamoDB kept cancelling for racing others says nothing about the conditions: reading it as
    one that failed would leave a ready task unclaimed, or a queued one unlaunched, with no event left to come.
    """
    if not reasons:
        return True
    if any(condition_failed(reason) for reason in reasons):
        return False
    raise RuntimeError(f"{what} was cancelled: {reasons}")


def claim_launch(job_id: str, task_id: str, attempt: int) -> bool:
    """Take the launch of a QUEUED attempt (its provision_time), only while the run is live; True for one caller.

    A claim older than LAUNCH_LEASE_MS with no task recorded was left by a handler that was killed: a later
    delivery takes it over (the attempt's launch token makes a second RunTask start no second task).
    """
    table, jobs_table = _table(), _jobs()
    now = now_ms()
    free = table.provision_time.does_not_exist() | (table.provision_time < now - LAUNCH_LEASE_MS)
    ready = (table.status == TaskStatus.QUEUED.value) & (table.attempt == attempt) & table.task_arn.does_not_exist()

    def write(transaction: TransactWrite) -> None:
        transaction.update(table(job_id, task_id), actions=[table.provision_time.set(now)], condition=ready & free)
        transaction.condition_check(JobRecord, job_id, condition=jobs_table.status.is_in(*[s.value for s in LIVE_RUN]))

    return _passed(transact(write), f"launching task {job_id}/{task_id}")


def release_launch(job_id: str, task_id: str, attempt: int) -> None:
    """Give back the launch claim of an attempt whose launcher raised: the event's redelivery launches it."""
    table = _table()
    try:
        table(job_id, task_id).update(
            actions=[table.provision_time.remove()],
            condition=(table.attempt == attempt) & table.task_arn.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise


def settle(task: DescribeTask, opened: int = 0) -> bool:
    """Pass the task's end on, once: its dependents' counts and the run's; False if it was settled already.

    `opened` adds tasks to the run's open count in the same write (a mapped task expanding into instances).
    """
    table, jobs_table = _table(), _jobs()
    failed = task.status != TaskStatus.COMPLETED
    dependents = task.downstream if task.map_index is None else [task.name]  # an instance feeds its mapped task

    def write(transaction: TransactWrite) -> None:
        transaction.update(
            table(task.job_id, task.task_id),
            actions=[table.settled.set(True)],
            condition=(table.status == task.status.value) & (table.settled == False),  # noqa: E712
        )
        for dependent in dependents:
            actions: list[Action] = [table.pending_inputs.add(-1)]
            if failed:
                actions.append(table.failed_inputs.add(1))
            transaction.update(table(task.job_id, dependent), actions=actions)
        run_actions: list[Action] = [jobs_table.tasks_open.add(opened - 1)]
        if failed:
            run_actions.append(jobs_table.tasks_failed.add(1))
        transaction.update(jobs_table(task.job_id), actions=run_actions)

    reasons = transact(write)
    if not reasons:
        return True
    if condition_failed(reasons[0]):
        return False
    raise RuntimeError(f"settling task {task.job_id}/{task.task_id} was cancelled: {reasons}")


def expand(template: DescribeTask, count: int) -> bool:
    """A mapped task QUEUED -> IN_PROGRESS expecting `count` instances, adding them to the run's open tasks."""
    table, jobs_table = _table(), _jobs()

    def write(transaction: TransactWrite) -> None:
        transaction.update(
            table(template.job_id, template.task_id),
            actions=[
                table.status.set(TaskStatus.IN_PROGRESS.value),
                table.map_count.set(count),
                table.pending_inputs.set(count),
                table.start_time.set(now_ms()),
            ],
            condition=(table.status == TaskStatus.QUEUED.value) & table.map_count.does_not_exist(),
        )
        transaction.update(jobs_table(template.job_id), actions=[jobs_table.tasks_open.add(count)])

    return _passed(transact(write), f"expanding task {template.job_id}/{template.task_id}")


def open_run(job_id: str, count: int) -> bool:
    """Give a run its count of open tasks, once (the first delivery of its start)."""
    jobs_table = _jobs()
    try:
        jobs_table(job_id).update(
            actions=[jobs_table.tasks_open.set(count), jobs_table.tasks_failed.set(0)],
            condition=jobs_table.job_id.exists() & jobs_table.tasks_open.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        return False
    return True


def delete_for(job_id: str) -> int:
    """Remove every task of the run (deleting a finished run)."""
    table = _table()
    removed = 0
    with table.batch_write() as batch:
        for record in table.query(job_id, attributes_to_get=["job_id", "task_id"]):
            batch.delete(record)
            removed += 1
    return removed
