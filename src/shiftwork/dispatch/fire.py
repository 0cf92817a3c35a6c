"""A definition's schedule fired: one job per (definition, scheduled time), with APScheduler's policies.

- misfire_grace_time: a fire handled later than this after its scheduled time is SKIPPED (missed start deadline).
- coalesce, for fires that piled up (downtime): latest runs only the most recent due fire, earliest only the first
  of the pile, all runs each.
- max_running_jobs: a fire while that many of the definition's jobs are queued or running is SKIPPED. The job
  takes a slot in the same transaction that records it (store/slots.py), so the limit holds under any concurrency.
- rearm-kind schedules are re-armed for the next fire before anything else.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shiftwork.errors import Conflict, LimitReached, NotFound
from shiftwork.models import CoalescePolicy, DescribeJob, DescribeJobDefinition, ScheduleFired, Status
from shiftwork.store import definitions, jobs, slots

if TYPE_CHECKING:
    from shiftwork.launchers import Launcher
    from shiftwork.schedules import Trigger

log = logging.getLogger(__name__)

_FIRE_NAMESPACE = uuid.UUID("0c0b5c52-2a7e-4f4e-9a51-2f1c8f0e7d11")


def fire_job_id(definition_id: str, scheduled: datetime) -> str:
    """The one job id a (definition, scheduled time) can have: duplicate deliveries collide on it."""
    return str(uuid.uuid5(_FIRE_NAMESPACE, f"{definition_id}/{scheduled.astimezone(UTC).isoformat()}"))


def _previous_fire(trigger: Trigger, scheduled: datetime, not_before: datetime) -> datetime | None:
    """The trigger's fire just before `scheduled` (None if there is none after not_before)."""
    window = timedelta(minutes=1)
    while True:
        start = max(scheduled - window, not_before)
        fires = _fires_between(trigger, start, scheduled)
        if fires:
            return fires[-1]
        if start == not_before:
            return None
        window *= 4


def _fires_between(trigger: Trigger, start: datetime, end: datetime) -> list[datetime]:
    found = []
    for fire in trigger.fire_times(start):
        if fire >= end:
            break
        found.append(fire)
    return found


def skip_reason(definition: DescribeJobDefinition, trigger: Trigger, scheduled: datetime, now: datetime) -> str | None:
    """Why this fire does not run, or None if it runs."""
    late = (now - scheduled).total_seconds()
    grace = definition.misfire_grace_time
    if grace is not None and late > grace:
        return f"missed start deadline: {late:.0f} s late, misfire_grace_time is {grace:g} s"
    if definition.coalesce == CoalescePolicy.LATEST:
        following = trigger.next_fire(scheduled + timedelta(microseconds=1))
        if following is not None and following <= now:
            return f"coalesced (latest): the fire at {following.isoformat()} is also due"
    elif definition.coalesce == CoalescePolicy.EARLIEST:
        since = datetime.fromtimestamp(definition.active_since / 1000, UTC)
        previous = _previous_fire(trigger, scheduled, since)
        if previous is not None:
            try:
                handled_at = jobs.get(fire_job_id(definition.job_definition_id, previous)).create_time
            except NotFound:
                handled_at = None
            if handled_at is None or handled_at > scheduled.timestamp() * 1000:
                return f"coalesced (earliest): the fire at {previous.isoformat()} was missed too"
    return None


def admit_or_skip(job: DescribeJob) -> tuple[DescribeJob, bool]:
    """Record a job of a definition holding one of its slots; SKIPPED if they are all taken.

    Returns the stored job and whether this call admitted it (so should launch it): a duplicate delivery gets the
    job the first one made, admitted or not.
    """
    try:
        return slots.admit(job), True
    except LimitReached as full:
        skipped = job.model_copy(
            update={"status": Status.SKIPPED, "status_message": full.reason, "end_time": jobs.now_ms()}
        )
        try:
            jobs.put_new(skipped)
        except Conflict:
            return jobs.get(job.job_id), False  # a duplicate delivery got a slot meanwhile, or skipped it too
        log.info("job %s of definition %s skipped: %s", job.job_id, job.job_definition_id, full.reason)
        return skipped, False
    except Conflict:
        return jobs.get(job.job_id), False  # a duplicate delivery: the job the first one made


def new_job(definition: DescribeJobDefinition, job_id: str, scheduled: datetime | None, **fields: Any) -> DescribeJob:
    """A job of the definition's current version (its notebook snapshot, parameters and formats)."""
    return jobs.draft(
        job_id,
        name=definition.name,
        status=fields.pop("status", Status.CREATED),
        input_filename=definition.input_filename,
        input_prefix=definition.input_prefix,
        parameters={**definition.parameters, **fields.pop("parameters", {})},
        output_formats=definition.output_formats,
        kernel_name=definition.kernel_name,
        timeout_seconds=definition.timeout_seconds,
        execution_timeout_seconds=definition.execution_timeout_seconds,
        start_timeout_seconds=definition.start_timeout_seconds,
        report_mode=definition.report_mode,
        package_input_folder=definition.package_input_folder,
        job_definition_id=definition.job_definition_id,
        job_definition_version=definition.version,
        kind=definition.kind,
        scheduled_time=scheduled.isoformat() if scheduled else None,
        tags=definition.tags,
        **fields,
    )


def handle_schedule_fired(event: dict[str, Any], launcher: Launcher, now: datetime | None = None) -> DescribeJob | None:
    """Handle EventBridge Scheduler's payload; a duplicate delivery returns the job the first one made."""
    from shiftwork.dispatch.dispatcher import launch_unlaunched
    from shiftwork.schedules import trigger_from_dict
    from shiftwork.schedules.scheduler_api import rearm_after

    fired = ScheduleFired.model_validate(event)
    scheduled = datetime.fromisoformat(fired.scheduled_time.replace("Z", "+00:00")).astimezone(UTC)
    now = now or datetime.now(UTC)
    try:
        definition = definitions.get(fired.job_definition_id)
    except NotFound:
        log.info("definition %s is gone; fire at %s ignored", fired.job_definition_id, scheduled)
        return None
    if not definition.trigger:
        log.warning("definition %s has no schedule; fire at %s ignored", definition.job_definition_id, scheduled)
        return None
    trigger = trigger_from_dict(definition.trigger, definition.timezone)
    if definition.active and any(c.get("kind") == "rearm" for c in definition.compiled):
        rearm_after(definition, scheduled)
    if not definition.active:
        log.info("definition %s is paused; fire at %s dropped", definition.job_definition_id, scheduled)
        return None
    if scheduled.timestamp() * 1000 < definition.active_since or trigger.next_fire(scheduled) != scheduled:
        log.warning("%s is not a fire of definition %s; ignored", scheduled, definition.job_definition_id)
        return None
    job_id = fire_job_id(definition.job_definition_id, scheduled)
    reason = skip_reason(definition, trigger, scheduled, now)
    if reason is not None:
        job = new_job(
            definition, job_id, scheduled, status=Status.SKIPPED, status_message=reason, end_time=jobs.now_ms()
        )
        try:
            jobs.put_new(job)
        except Conflict:
            return jobs.get(job_id)  # a duplicate delivery of the same fire: the job the first one made
        log.info("definition %s fire at %s skipped: %s", definition.job_definition_id, scheduled, reason)
        return job
    job = new_job(definition, job_id, scheduled, status=Status.QUEUED)  # the dispatcher is here already
    try:
        job, _admitted = admit_or_skip(job)
    except NotFound:
        log.info("definition %s was deleted; fire at %s ignored", definition.job_definition_id, scheduled)
        return None
    return launch_unlaunched(job, launcher)  # a duplicate delivery too, if the first died before launching
