"""A definition's max_running_jobs slots: taken with the job's record in one transaction, given back with its end.

The definition record counts its taken slots (active_jobs); a job that took one carries holds_slot until its
terminal write, which removes the flag and decrements the count in one transaction. So the limit holds however
many dispatchers admit at once, and a slot is given back exactly once however often the end is reported.
"""

from __future__ import annotations

import logging

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shiftwork.errors import Conflict, LimitReached, NotFound
from shiftwork.models import DescribeJob
from shiftwork.store.tables import DefinitionRecord, JobRecord, bound
from shiftwork.store.transactions import condition_failed, transact

log = logging.getLogger(__name__)

_CHECK_FAILED = "ConditionalCheckFailedException"  # a single write's error


def _tables() -> tuple[type[JobRecord], type[DefinitionRecord]]:
    return bound(JobRecord), bound(DefinitionRecord)  # type: ignore[return-value]


def admit(job: DescribeJob) -> DescribeJob:
    """Store a new job of a definition and take one of the definition's slots, in one transaction.

    Nothing is written when it raises: Conflict if a job with this id exists (a duplicate delivery), LimitReached
    if the definition's max_running_jobs slots are all taken, NotFound if the definition is gone.
    """
    definition_id = job.job_definition_id
    if not definition_id:
        raise ValueError(f"job {job.job_id} is no definition's: it takes no slot")
    jobs_table, definitions_table = _tables()
    record = jobs_table(**job.model_dump(exclude_none=True, mode="json"), holds_slot=True)
    count = definitions_table.active_jobs
    below_limit = count.does_not_exist() | (count < definitions_table.max_running_jobs)

    def write(transaction: TransactWrite) -> None:
        transaction.save(record, condition=jobs_table.job_id.does_not_exist())
        transaction.update(
            definitions_table(definition_id),
            actions=[count.add(1)],
            condition=definitions_table.job_definition_id.exists() & below_limit,
            return_values="ALL_OLD",
        )

    reasons = transact(write)
    if not reasons:
        return job
    if condition_failed(reasons[0]):  # the job exists, whatever the count: this delivery is a duplicate
        raise Conflict(job.job_id, "existing", "absent")
    if condition_failed(reasons[1]):
        old = reasons[1].raw_item if reasons[1] else None
        if not old:
            raise NotFound("job definition", definition_id)
        definition = definitions_table.from_raw_data(old)
        raise LimitReached(definition_id, int(definition.max_running_jobs), int(definition.active_jobs or 0))
    raise RuntimeError(f"admitting job {job.job_id} was cancelled: {reasons}")


def release(job_id: str, definition_id: str, actions: list[Action], condition: Condition) -> bool:
    """Apply a holding job's terminal write (`actions` if `condition`) and give its slot back, in one transaction.

    False, with nothing written, if the job's condition failed. A definition deleted meanwhile, or whose count
    is already 0 (drift, repaired by reconciliation), does not keep the job from ending.
    """
    jobs_table, definitions_table = _tables()
    held = condition & jobs_table.holds_slot.exists()
    ending = [*actions, jobs_table.holds_slot.remove()]

    def write(transaction: TransactWrite) -> None:
        transaction.update(jobs_table(job_id), actions=ending, condition=held)
        transaction.update(
            definitions_table(definition_id),
            actions=[definitions_table.active_jobs.add(-1)],
            condition=definitions_table.active_jobs > 0,
        )

    reasons = transact(write)
    if not reasons:
        return True
    if condition_failed(reasons[0]):
        return False
    if not condition_failed(reasons[1]):
        raise RuntimeError(f"ending job {job_id} was cancelled: {reasons}")
    log.warning("job %s ended holding a slot definition %s no longer counts (deleted, or drift)", job_id, definition_id)
    try:
        jobs_table(job_id).update(actions=ending, condition=held)
    except UpdateError as error:
        if error.cause_response_code != _CHECK_FAILED:
            raise
        return False
    return True


def taken(definition_id: str) -> int | None:
    """The definition's count of taken slots (a consistent read), None if the definition is gone."""
    _, definitions_table = _tables()
    try:
        record = definitions_table.get(
            definition_id, consistent_read=True, attributes_to_get=["job_definition_id", "active_jobs"]
        )
    except DoesNotExist:
        return None
    return int(record.active_jobs or 0)


def holders(definition_id: str) -> int:
    """How many of the definition's jobs hold a slot: a Query on the by-definition index (all pages)."""
    jobs_table, _ = _tables()
    return jobs_table.by_definition.count(definition_id, filter_condition=jobs_table.holds_slot.exists())


def set_taken(definition_id: str, expected: int, value: int) -> bool:
    """Set the definition's count to `value` if it is still `expected` (reconciliation); False if it moved."""
    _, definitions_table = _tables()
    count = definitions_table.active_jobs
    still = count == expected
    if expected == 0:
        still |= count.does_not_exist()
    try:
        definitions_table(definition_id).update(
            actions=[count.set(value)], condition=definitions_table.job_definition_id.exists() & still
        )
    except UpdateError as error:
        if error.cause_response_code != _CHECK_FAILED:
            raise
        return False
    return True
