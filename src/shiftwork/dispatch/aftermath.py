"""After a definition's job ends: retry a failure (a new attempt linked to the first) and notify (SNS)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.dispatch.queue import MAX_DELAY_SECONDS, request_dispatch
from shiftwork.errors import Conflict, NotFound
from shiftwork.models import DescribeJob, Status
from shiftwork.store import definitions, jobs

if TYPE_CHECKING:
    from shiftwork.models import DescribeJobDefinition

log = logging.getLogger(__name__)

_RETRY_NAMESPACE = uuid.UUID("9a6c2d4e-1f3b-4a5c-8d7e-6f5a4b3c2d1e")
MAX_BACKOFF_SECONDS = MAX_DELAY_SECONDS  # a retry waits in the dispatch queue, which delays a message 900 s at most


def retry_job_id(first_job_id: str, attempt: int) -> str:
    return str(uuid.uuid5(_RETRY_NAMESPACE, f"{first_job_id}/{attempt}"))


def retry_delay(definition: DescribeJobDefinition, failed_attempt: int) -> float:
    """Seconds before the retry of `failed_attempt`: the backoff, doubled each attempt, at most 900 s."""
    return min(MAX_BACKOFF_SECONDS, definition.retry_backoff_seconds * 2 ** (failed_attempt - 1))


def after_job_ended(job: DescribeJob) -> DescribeJob | None:
    """Retry and notify for a finished job of a definition; duplicates of the event change nothing."""
    if not job.is_terminal or not job.job_definition_id:
        return None
    try:
        definition = definitions.get(job.job_definition_id)
    except NotFound:
        return None
    retry = None
    if job.status == Status.FAILED and job.attempt <= definition.max_retries:
        retry = _retry(definition, job)  # no notification yet: only the last attempt's failure is news
        if retry is not None and retry.status != Status.SKIPPED:
            return retry
    _notify(definition, job)  # (a retry SKIPPED for max_running_jobs runs nothing: this failure is the last)
    return retry


def _retry(definition: DescribeJobDefinition, job: DescribeJob) -> DescribeJob | None:
    """A new attempt, holding a slot as any job of the definition (SKIPPED if max_running_jobs are running)."""
    from shiftwork.dispatch.fire import admit_or_skip, new_job

    first = job.retry_of or job.job_id
    attempt = job.attempt + 1
    retry = new_job(
        definition, retry_job_id(first, attempt), None, attempt=attempt, retry_of=first, parameters=job.parameters
    )
    update = {
        "scheduled_time": job.scheduled_time,
        "job_definition_version": job.job_definition_version,
        "input_prefix": job.input_prefix,
    }
    if job.kind == "workflow":  # a run's retry reruns what failed, reusing what it completed
        update |= {"kind": "workflow", "original_run_id": job.job_id, "partial_rerun": True}
    retry = retry.model_copy(update=update)
    try:
        retry, admitted = admit_or_skip(retry)
    except NotFound:
        return None  # the definition was deleted meanwhile: no retry
    if not admitted:
        return retry  # this failure was handled already, or no slot is free
    delay = retry_delay(definition, job.attempt)
    request_dispatch(retry.job_id, delay)  # the dispatch queue holds it back: the backoff
    log.info("job %s failed (attempt %d): retry %s in %d s", job.job_id, job.attempt, retry.job_id, delay)
    return retry


def _notify(definition: DescribeJobDefinition, job: DescribeJob) -> None:
    wanted = {"failure"} if job.status == Status.FAILED else {"success"} if job.status == Status.COMPLETED else set()
    settings = get_settings()
    if not wanted & {str(n) for n in definition.notify} or not settings.notifications_topic_arn or job.notified:
        return
    try:
        jobs.update(job.job_id, [job.status], unless="notified", notified=True)  # claim it: one message per job
    except Conflict:
        return
    subject = f"Shiftwork: {definition.name} {job.status.value.lower()}"
    body = {
        "job_id": job.job_id,
        "job_definition_id": definition.job_definition_id,
        "name": definition.name,
        "status": job.status.value,
        "status_message": job.status_message,
        "attempt": job.attempt,
        "scheduled_time": job.scheduled_time,
    }
    aws.client("sns", settings).publish(
        TopicArn=settings.notifications_topic_arn, Subject=subject[:100], Message=json.dumps(body, indent=2)
    )
