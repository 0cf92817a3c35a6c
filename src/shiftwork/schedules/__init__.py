"""Triggers, time zones and the DST rule, next fire times, and the EventBridge Scheduler compiler.

Light imports only: the dispatcher re-arms schedules with this package.
"""

from __future__ import annotations

from shiftwork.schedules.compiler import CompiledSchedule, compile_to_eventbridge
from shiftwork.schedules.friendly import Schedule
from shiftwork.schedules.parse import parse_trigger, trigger_from_dict
from shiftwork.schedules.triggers import (
    AndTrigger,
    CalendarIntervalTrigger,
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
    Trigger,
)

__all__ = [
    "AndTrigger",
    "CalendarIntervalTrigger",
    "CompiledSchedule",
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "OrTrigger",
    "Schedule",
    "Trigger",
    "compile_to_eventbridge",
    "parse_trigger",
    "trigger_from_dict",
]
