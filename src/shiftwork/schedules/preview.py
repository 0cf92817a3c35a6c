"""A schedule's next fire times and its description in words: what every front end shows before and after saving.

`shiftwork schedule preview`, the definition views of the CLI and the dashboard, and GET /schedules/preview all
call preview_schedule, so they agree to the second.
"""

from __future__ import annotations

from shiftwork.models.definition import SchedulePreview
from shiftwork.schedules.dst import zone
from shiftwork.schedules.parse import parse_moment, parse_trigger
from shiftwork.schedules.triggers import Trigger, utc_now

MAX_PREVIEW_FIRES = 1000  # a page of fires: beyond this, preview again from the last one


def preview_schedule(
    schedule: str, timezone: str = "UTC", count: int = 5, start: str | None = None, start_field: str = "start"
) -> SchedulePreview:
    """The first `count` fires at or after `start` (wall time in `timezone`, default now), and the schedule in words.

    Raises InvalidSpec naming schedule, timezone or start when one of them cannot be read.
    """
    zone(timezone)  # an unknown zone is named as such, not as a bad schedule
    begin = parse_moment(start, timezone, start_field) if start else utc_now()
    trigger = parse_trigger(schedule, timezone, now=begin)
    fires = [fire.astimezone(zone(timezone)) for fire in trigger.preview(begin, count)]
    return SchedulePreview(
        schedule=schedule, timezone=timezone, in_words=in_words(trigger, timezone), start=begin, fires=fires
    )


def in_words(trigger: Trigger, timezone: str) -> str:
    """A cron trigger as a sentence (cron-descriptor) with its expression, an interval or a date in words, any other
    as it was written; with its time zone."""
    text = trigger.describe()
    data = trigger.to_dict()
    if data.get("type") == "interval":
        return f"Every {_period(float(data['seconds']))} ({timezone})"
    if data.get("type") == "date":
        return f"Once, at {data['run_date']} ({timezone})"
    if data.get("type") == "cron":
        from cron_descriptor import get_description

        try:
            return f"{get_description(text)} ({timezone}; {text})"
        except Exception:  # noqa: BLE001 - a cron form the describer does not know: shown as written
            pass
    return f"{text} ({timezone})"


_UNITS = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def _period(seconds: float) -> str:
    """7200 -> "2 hours", 5400 -> "90 minutes": the largest unit that divides it."""
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            amount = int(seconds // size)
            return f"{amount} {unit}{'s' * (amount != 1)}"
    return f"{seconds:g} seconds"
