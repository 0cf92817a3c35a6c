"""A definition's EventBridge Scheduler schedules: created, updated, paused and deleted with the definition."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.errors import InvalidSpec
from shiftwork.schedules.compiler import CompiledSchedule, at_expression, rearm
from shiftwork.schedules.parse import trigger_from_dict

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models import DescribeJobDefinition

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"  # EventBridge Scheduler fills these in
EXECUTION_ID = "<aws.scheduler.execution-id>"


def schedule_name(definition_id: str, index: int) -> str:
    return f"{definition_id}-{index}"


def fire_payload(definition_id: str, scheduled_time: str = SCHEDULED_TIME) -> str:
    return json.dumps(
        {"job_definition_id": definition_id, "scheduled_time": scheduled_time, "execution_id": EXECUTION_ID}
    )


def _request(
    definition: DescribeJobDefinition, index: int, compiled: CompiledSchedule, now: datetime, settings: Settings
) -> dict[str, Any]:
    payload = fire_payload(definition.job_definition_id)
    if compiled.kind == "rearm":
        # the at() may carry jitter; the nominal fire time travels in the payload
        trigger = trigger_from_dict(definition.trigger, definition.timezone)
        nominal = trigger.next_fire(now)
        if nominal is not None:
            payload = fire_payload(definition.job_definition_id, nominal.isoformat())
    request: dict[str, Any] = {
        "Name": schedule_name(definition.job_definition_id, index),
        "GroupName": settings.schedule_group,
        "ScheduleExpression": compiled.expression,
        "ScheduleExpressionTimezone": compiled.timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED" if definition.active else "DISABLED",
        "ActionAfterCompletion": "NONE",
        "Target": {
            "Arn": settings.scheduler_target_arn or "",
            "RoleArn": settings.scheduler_role_arn,
            "Input": payload,
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
        },
    }
    if compiled.kind == "rate":  # a rate counts from its start date: the trigger's next fire keeps its phase
        trigger = trigger_from_dict(definition.trigger, definition.timezone)
        first = trigger.next_fire(now)
        if first is not None:
            request["StartDate"] = first
    if compiled.end_date is not None and compiled.end_date > now:
        request["EndDate"] = compiled.end_date
    return request


def recompile(definition: DescribeJobDefinition, now: datetime | None = None) -> list[CompiledSchedule]:
    from shiftwork.schedules.compiler import compile_to_eventbridge

    now = now or datetime.now(UTC)
    return compile_to_eventbridge(trigger_from_dict(definition.trigger, definition.timezone), now)


def put_schedules(
    definition: DescribeJobDefinition, settings: Settings | None = None, now: datetime | None = None
) -> list[CompiledSchedule]:
    """Make the definition's schedules in EventBridge Scheduler what its trigger compiles to now."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    if not definition.trigger:  # no schedule: nothing in EventBridge Scheduler
        delete_schedules(definition.job_definition_id, settings)
        return []
    compiled = [CompiledSchedule(**_compiled_args(c)) for c in definition.compiled] or recompile(definition, now)
    if any(c.kind == "rearm" for c in compiled):
        compiled = recompile(definition, now)  # a one-shot is always armed for the next fire from now
    scheduler = aws.client("scheduler", settings)
    existing = _existing_names(definition.job_definition_id, settings)
    for index, schedule in enumerate(compiled):
        request = _request(definition, index, schedule, now, settings)
        if request["Name"] in existing:
            scheduler.update_schedule(**request)
            continue
        try:
            scheduler.create_schedule(**request)
        except scheduler.exceptions.ConflictException:  # a concurrent change of the definition made it first
            scheduler.update_schedule(**request)
    wanted = {schedule_name(definition.job_definition_id, i) for i in range(len(compiled))}
    for name in existing - wanted:
        with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):  # or deleted it first
            scheduler.delete_schedule(Name=name, GroupName=settings.schedule_group)
    return compiled


def rearm_after(definition: DescribeJobDefinition, fired: datetime, settings: Settings | None = None) -> None:
    """After a rearm-kind schedule fired: point its one-shot at the next fire."""
    settings = settings or get_settings()
    trigger = trigger_from_dict(definition.trigger, definition.timezone)
    try:
        following = rearm(trigger, fired)
    except InvalidSpec:
        delete_schedules(definition.job_definition_id, settings)  # it never fires again
        return
    if trigger.jitter:
        import random

        nominal = trigger.next_fire(fired)
        assert nominal is not None
        jittered = nominal.timestamp() + random.uniform(0, trigger.jitter)
        following = CompiledSchedule("rearm", at_expression(datetime.fromtimestamp(jittered, UTC)), "UTC")
    request = _request(definition, 0, following, fired, settings)
    aws.client("scheduler", settings).update_schedule(**request)


def _compiled_args(data: dict[str, Any]) -> dict[str, Any]:
    args = dict(data)
    for key in ("start_date", "end_date"):
        if args.get(key):
            args[key] = datetime.fromisoformat(args[key])
    return args


def _is_schedule_of(name: str, definition_id: str) -> bool:
    head, _, index = name.rpartition("-")
    return head == definition_id and index.isdigit()


def _existing_names(definition_id: str, settings: Settings) -> set[str]:
    scheduler = aws.client("scheduler", settings)
    names: set[str] = set()
    for page in scheduler.get_paginator("list_schedules").paginate(
        GroupName=settings.schedule_group, NamePrefix=definition_id
    ):
        # exactly <id>-<n>: a NamePrefix of "a" also lists the schedules of definitions "ab" and "a-b"
        names |= {s["Name"] for s in page.get("Schedules", []) if _is_schedule_of(s["Name"], definition_id)}
    return names


def delete_schedules(definition_id: str, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    scheduler = aws.client("scheduler", settings)
    for name in _existing_names(definition_id, settings):
        scheduler.delete_schedule(Name=name, GroupName=settings.schedule_group)
