"""Repository of jobs. Every status change is a conditional write guarded by the expected current status."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from shiftwork.errors import Conflict, NotFound
from shiftwork.models import TERMINAL_STATUSES, DescribeJob, ListJobsQuery, ListJobsResponse, Status
from shiftwork.models.limits import check_lookup_id
from shiftwork.store.listing import Listing, all_of, read_page
from shiftwork.store.tables import ALL_JOBS, JobRecord, bound

_CONDITION_FAILED = "ConditionalCheckFailedException"


def now_ms() -> int:
    return int(time.time() * 1000)


def _table() -> type[JobRecord]:
    return bound(JobRecord)  # type: ignore[return-value]


def draft(job_id: str, **fields: Any) -> DescribeJob:
    """A new job, not yet stored: stamped with its times and where its files will go."""
    from shiftwork.store.files import output_prefix

    now = now_ms()
    return DescribeJob(job_id=job_id, create_time=now, update_time=now, output_prefix=output_prefix(job_id), **fields)


def _to_dto(record: JobRecord) -> DescribeJob:
    return DescribeJob.model_validate(record.attribute_values)


def put_new(job: DescribeJob) -> DescribeJob:
    """Store a new job; an existing job with the same id is a Conflict, never overwritten."""
    table = _table()
    record = table(**job.model_dump(exclude_none=True, mode="json"))
    try:
        record.save(condition=table.job_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise Conflict(job.job_id, "existing", "absent") from error
        raise
    return job


def get(job_id: str) -> DescribeJob:
    check_lookup_id("job", job_id)
    try:
        return _to_dto(_table().get(job_id, consistent_read=True))
    except DoesNotExist as error:
        raise NotFound("job", job_id) from error


def update(
    job_id: str,
    expected: Iterable[Status],
    *,
    status: Status | None = None,
    unless: str | None = None,
    **changes: Any,
) -> DescribeJob:
    """Apply `changes` (and `status`) only if the job's status is one of `expected`; else raise Conflict.

    A change whose value is None removes that attribute. `unless` names a boolean attribute that must not be
    true yet (a claim, such as "notified"). A terminal status gives the job's slot back in the same write.
    """
    table = _table()
    expected = [Status(s) for s in expected]
    if status is not None and set(expected) == set(Status):
        raise ValueError(f"a status write to {status} must name the statuses it moves from, not all of them")
    values: dict[str, Any] = {"update_time": now_ms(), **changes}
    if status is not None:
        values["status"] = Status(status).value
    actions: list[Action] = []
    for name, value in values.items():
        attribute = getattr(table, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    condition = table.job_id.exists() & table.status.is_in(*[s.value for s in expected])
    if unless is not None:
        flag = getattr(table, unless)
        condition &= flag.does_not_exist() | (flag == False)  # noqa: E712 - a pynamodb condition, not a test
    if status is not None and Status(status) in TERMINAL_STATUSES:
        return _end(job_id, expected, values, actions, condition)
    record = table(job_id)
    try:
        record.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        raise _conflict(job_id, expected) from error
    return _to_dto(record)


def _conflict(job_id: str, expected: list[Status]) -> Conflict:
    current = get(job_id)  # raises NotFound if it is gone
    return Conflict(job_id, current.status.value, "|".join(s.value for s in expected))


def _end(
    job_id: str, expected: list[Status], values: dict[str, Any], actions: list[Action], condition: Condition
) -> DescribeJob:
    """A terminal write: one transaction with giving the job's slot back if it holds one, else a plain update."""
    from shiftwork.store import slots

    table = _table()
    try:
        record = table.get(job_id, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound("job", job_id) from error
    if Status(record.status) not in expected:
        raise Conflict(job_id, record.status, "|".join(s.value for s in expected))
    if record.holds_slot and record.job_definition_id:
        if not slots.release(job_id, record.job_definition_id, actions, condition):
            raise _conflict(job_id, expected)  # another write ended it between the read and this one
        for name, value in {**values, "holds_slot": None}.items():
            setattr(record, name, value)
        return _to_dto(record)
    try:
        record.update(actions=actions, condition=condition & table.holds_slot.does_not_exist())
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        raise _conflict(job_id, expected) from error
    return _to_dto(record)


def record_task(job_id: str, task_arn: str | None, log_stream: str | None) -> DescribeJob:
    """Record (or, with None, forget) the task a job runs in, whatever its status; never writes the status."""
    table = _table()
    record = table(job_id)
    actions: list[Action] = [table.update_time.set(now_ms())]
    for attribute, value in ((table.task_arn, task_arn), (table.log_stream, log_stream)):
        actions.append(attribute.remove() if value is None else attribute.set(value))
    try:
        record.update(actions=actions, condition=table.job_id.exists())
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        raise NotFound("job", job_id) from error
    return _to_dto(record)


def delete(job_id: str) -> None:
    table = _table()
    try:
        table(job_id).delete(condition=table.job_id.exists())
    except DeleteError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise NotFound("job", job_id) from error
        raise


def _index_for(query: ListJobsQuery) -> tuple[Any, str, str]:
    """The index to Query: a definition's jobs, unless the status asked for is a live one (few at any time)."""
    table = _table()
    status, definition = query.status, query.job_definition_id
    if definition is not None and (status is None or status in TERMINAL_STATUSES):
        return table.by_definition, "job_definition_id", definition
    if status is not None:
        return table.by_status, "status", status.value
    return table.by_create_time, "list_pk", ALL_JOBS


def list_jobs(query: ListJobsQuery) -> ListJobsResponse:
    """One page of the jobs `query` selects, in its order (default newest first): a Query, never a Scan.

    See read_page for how sorting and next_token work.
    """
    table = _table()
    index, hash_name, hash_value = _index_for(query)
    conditions: list[Condition] = []
    if query.status is not None and hash_name != "status":
        conditions.append(table.status == query.status.value)
    if query.job_definition_id is not None and hash_name != "job_definition_id":
        conditions.append(table.job_definition_id == query.job_definition_id)
    if query.name:
        conditions.append(table.name.startswith(query.name))
    if query.start_time is not None:
        conditions.append(table.start_time >= query.start_time)
    if query.start_time_before is not None:
        conditions.append(table.start_time < query.start_time_before)
    if query.exclude_status:
        conditions.append(~table.status.is_in(*[Status(s).value for s in query.exclude_status]))
    if query.kind == "workflow":
        conditions.append(table.kind == "workflow")
    elif query.kind == "notebook":  # a notebook job's record has no kind
        conditions.append(table.kind.does_not_exist() | (table.kind == "notebook"))
    # tags are stored as one JSON string: `contains` finds the quoted tag, `matches` checks exactly
    conditions += [table.tags.contains(tag) for tag in query.tags]
    listing: Listing[DescribeJob] = Listing(
        kind="jobs",
        index=index,
        hash_name=hash_name,
        hash_value=hash_value,
        id_name="job_id",
        to_dto=_to_dto,
        query=query,
        filters="status, job_definition_id, name, start_time, start_time_before, tags, kind, exclude_status",
        filter_condition=all_of(conditions),
        matches=lambda job: all(tag in job.tags for tag in query.tags),
    )
    items, token = read_page(listing, query.max_items, query.next_token)
    return ListJobsResponse(jobs=items, next_token=token)


def iter_with_status(statuses: Iterable[Status]) -> Iterable[DescribeJob]:
    """Every job in any of `statuses`, all pages (recovery after a restart)."""
    table = _table()
    for status in statuses:
        for record in table.by_status.query(Status(status).value):
            yield _to_dto(record)
