"""Repository of jobs. Every status change is a conditional write guarded by the expected current status."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from shiftwork.errors import Conflict, NotFound
from shiftwork.models import DescribeJob, ListJobsQuery, ListJobsResponse, Status
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
    true yet (a claim, such as "notified").
    """
    table = _table()
    expected = [Status(s) for s in expected]
    actions: list[Action] = [table.update_time.set(now_ms())]
    if status is not None:
        actions.append(table.status.set(Status(status).value))
    for name, value in changes.items():
        attribute = getattr(table, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    record = table(job_id)
    condition = table.job_id.exists() & table.status.is_in(*[s.value for s in expected])
    if unless is not None:
        flag = getattr(table, unless)
        condition &= flag.does_not_exist() | (flag == False)  # noqa: E712 - a pynamodb condition, not a test
    try:
        record.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code != _CONDITION_FAILED:
            raise
        current = get(job_id)  # raises NotFound if it is gone
        raise Conflict(job_id, current.status.value, "|".join(s.value for s in expected)) from error
    return _to_dto(record)


def delete(job_id: str) -> None:
    table = _table()
    try:
        table(job_id).delete(condition=table.job_id.exists())
    except DeleteError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise NotFound("job", job_id) from error
        raise


def _encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    from shiftwork.errors import InvalidSpec

    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as error:
        raise InvalidSpec("next_token", token, "pass the next_token of the previous page unchanged") from error
    if not isinstance(key, dict):
        raise InvalidSpec("next_token", token, "pass the next_token of the previous page unchanged")
    return key


def list_jobs(query: ListJobsQuery) -> ListJobsResponse:
    """Newest first, one page; a Query on an index, never a Scan."""
    table = _table()
    if query.status is not None:
        index: Any = table.by_status
        hash_key: str = query.status.value
    elif query.job_definition_id is not None:
        index, hash_key = table.by_definition, query.job_definition_id
    else:
        index, hash_key = table.by_create_time, ALL_JOBS
    condition = None
    if query.status is not None and query.job_definition_id is not None:
        condition = table.job_definition_id == query.job_definition_id
    result = index.query(
        hash_key,
        filter_condition=condition,
        scan_index_forward=False,
        limit=query.max_items,
        last_evaluated_key=_decode_token(query.next_token),
        page_size=query.max_items,
    )
    jobs = [_to_dto(record) for record in result]
    return ListJobsResponse(jobs=jobs, next_token=_encode_token(result.last_evaluated_key))


def iter_with_status(statuses: Iterable[Status]) -> Iterable[DescribeJob]:
    """Every job in any of `statuses`, all pages (recovery after a restart)."""
    table = _table()
    for status in statuses:
        for record in table.by_status.query(Status(status).value):
            yield _to_dto(record)


ACTIVE_STATUSES = (Status.CREATED, Status.QUEUED, Status.IN_PROGRESS, Status.STOPPING)


def count_active(definition_id: str) -> int:
    """How many of a definition's jobs are queued or running (one Query on the by-definition index)."""
    table = _table()
    active = table.status.is_in(*[status.value for status in ACTIVE_STATUSES])
    return table.by_definition.count(definition_id, filter_condition=active)
