"""Run-after: the end of a definition's job fires the definitions that run after it, one job each per ending.

The downstream job's id is derived from (downstream definition, upstream job), so duplicate and concurrent
deliveries of one ending collide on it; it takes a slot as any fire does (max_running_jobs holds, else SKIPPED).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from shiftwork.dispatch.queue import request_dispatch
from shiftwork.errors import NotFound
from shiftwork.models import DescribeJob, RunAfterCondition, Status
from shiftwork.store import definitions

if TYPE_CHECKING:
    from shiftwork.models import DescribeJobDefinition

log = logging.getLogger(__name__)

MAX_CHAIN = 100  # the longest run-after chain create and update allow (api/run_after.py)
_RUN_AFTER_NAMESPACE = uuid.UUID("4f2e8b1a-7c3d-4e5f-9a6b-1c2d3e4f5a6b")

_FIRES_ON = {
    RunAfterCondition.SUCCESS: {Status.COMPLETED},
    RunAfterCondition.FAILURE: {Status.FAILED},
    RunAfterCondition.COMPLETION: {Status.COMPLETED, Status.FAILED},
}


def downstream_job_id(downstream_id: str, upstream_job_id: str) -> str:
    """The one job id the end of `upstream_job_id` can give the downstream definition."""
    return str(uuid.uuid5(_RUN_AFTER_NAMESPACE, f"{downstream_id}/{upstream_job_id}"))


def fires(condition: RunAfterCondition | None, status: Status) -> bool:
    """Whether a job that ended with `status` (its last attempt) fires a definition with this condition."""
    return status in _FIRES_ON.get(condition or RunAfterCondition.SUCCESS, set())


def fire_downstream(job: DescribeJob) -> list[DescribeJob]:
    """Start the jobs the (final) end of `job` owes the definitions running after its definition.

    Returns the downstream jobs, whether this call or a duplicate delivery made them (SKIPPED ones too).
    """
    if not job.job_definition_id or job.status not in (Status.COMPLETED, Status.FAILED):
        return []
    downstream_ids = definitions.downstream_of(job.job_definition_id)
    if downstream_ids and _in_cycle(job.job_definition_id):
        log.error("definition %s runs after itself (a cycle): job %s fires nothing", job.job_definition_id, job.job_id)
        return []
    started = []
    for downstream_id in downstream_ids:
        try:
            downstream = definitions.get(downstream_id)
        except NotFound:
            continue  # deleted since the index saw it
        if downstream.run_after != job.job_definition_id or not fires(downstream.run_after_condition, job.status):
            continue
        if not downstream.active:
            log.info("definition %s is paused: the end of job %s runs nothing", downstream_id, job.job_id)
            continue
        made = _start(downstream, job)
        if made is not None:
            started.append(made)
    return started


def _in_cycle(definition_id: str) -> bool:
    """Whether following run_after up from the definition comes back to it. Create and update refuse cycles
    (an update checks the chain in its own transaction); one that got past them anyway (a --conflict replace
    create racing an update, a record written by hand) then fires nothing rather than forever."""
    seen = {definition_id}
    current = definition_id
    for _ in range(MAX_CHAIN):
        try:
            current = definitions.get(current).run_after or ""
        except NotFound:
            return False
        if not current:
            return False
        if current in seen:
            return current == definition_id
        seen.add(current)
    return True  # a chain longer than create and update allow: treated as a cycle


def _start(downstream: DescribeJobDefinition, upstream_job: DescribeJob) -> DescribeJob | None:
    """Admit (or SKIP) the downstream definition's job for this ending and have the dispatcher launch it."""
    from shiftwork.dispatch.fire import admit_or_skip, new_job

    job_id = downstream_job_id(downstream.job_definition_id, upstream_job.job_id)
    job = new_job(downstream, job_id, None, triggered_by=upstream_job.job_id)
    try:
        job, admitted = admit_or_skip(job)
    except NotFound:
        return None  # the downstream definition was deleted meanwhile
    # A duplicate delivery asks again for a job not launched yet: the first may have died before asking, and
    # the dispatcher launches a job once however often it is asked.
    if admitted or (job.status in (Status.CREATED, Status.QUEUED) and not job.task_arn):
        request_dispatch(job.job_id)
        log.info("job %s ended %s: job %s of %s", upstream_job.job_id, upstream_job.status, job.job_id, job.name)
    return job
