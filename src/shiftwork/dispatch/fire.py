"""A definition's schedule fired: one job per (definition, scheduled time), with APScheduler's policies.

- misfire_grace_time: a fire handled later than this after its scheduled time is SKIPPED (missed start deadline).
- coalesce, for fires that piled up (downtime): latest runs only the most recent due fire, earliest only the first
  of the pile, all runs each.
- max_running_jobs: a fire while that many of the definition's jobs are queued or running is SKIPPED.
- rearm-kind schedules are re-armed for the next fire before anything else.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shiftwork.errors import Conflict, NotFound
from shiftwork.models import CoalescePolicy, DescribeJob, DescribeJobDefinition, ScheduleFired, Status
from shiftwork.store import definitions, jobs

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
    running = jobs.count_active(definition.job_definition_id)
    if running >= definition.max_running_jobs:
        return f"max_running_jobs ({definition.max_running_jobs}) reached: {running} queued or running"
    return None


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
        scheduled_time=scheduled.isoformat() if scheduled else None,
        tags=definition.tags,
        **fields,
    )


def handle_schedule_fired(event: dict[str, Any], launcher: Launcher, now: datetime | None = None) -> DescribeJob | None:
    """Handle EventBridge Scheduler's payload; a duplicate delivery returns the job the first one made."""
    from shiftwork.dispatch.dispatcher import launch_queued
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
    else:
        job = new_job(definition, job_id, scheduled, status=Status.QUEUED)  # the dispatcher is here already
    try:
        jobs.put_new(job)
    except Conflict:
        return jobs.get(job_id)  # a duplicate delivery of the same fire: the job the first one made
    if reason is not None:
        log.info("definition %s fire at %s skipped: %s", definition.job_definition_id, scheduled, reason)
        return job
    return launch_queued(job, launcher)
