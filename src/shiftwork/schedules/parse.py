"""Read what users write: a Unix cron string, an EventBridge expression, or a JSON trigger."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from shiftwork.errors import InvalidSpec
from shiftwork.schedules.cron import parse_cron
from shiftwork.schedules.dst import to_instant, zone
from shiftwork.schedules.triggers import (
    AndTrigger,
    CalendarIntervalTrigger,
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
    Trigger,
    utc_now,
)

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_AT = re.compile(r"^at\(\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\s*\)$")
_AWS_CRON = re.compile(r"^cron\((.*)\)$")
_AWS_DOW = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
MINIMUM_INTERVAL = timedelta(minutes=1)
MAXIMUM_INTERVAL = timedelta(days=3660)  # ten years; also keeps every date arithmetic on it in range
MAXIMUM_JITTER = 3600.0
_UNIT_SECONDS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
F = TypeVar("F", bound=Callable[..., Trigger])


def _refusing_malformed(function: F) -> F:
    """Reading a user's schedule raises InvalidSpec and nothing else, however malformed its text or JSON."""

    @functools.wraps(function)
    def wrapper(spec: Any, *args: Any, **kwargs: Any) -> Trigger:
        try:
            return function(spec, *args, **kwargs)
        except InvalidSpec:
            raise
        except (ValueError, TypeError, OverflowError, KeyError, AttributeError, RecursionError) as error:
            raise InvalidSpec(
                "schedule",
                spec,
                f"cannot be read ({type(error).__name__}: {str(error)[:80]}): see the README's Schedules",
            ) from None

    return wrapper  # type: ignore[return-value]


def bounded_period(amounts: dict[str, Any], shown: Any, field: str = "interval") -> timedelta:
    """A positive interval of at most MAXIMUM_INTERVAL from {unit: amount}, refused before timedelta overflows."""
    seconds = 0.0
    for unit, amount in amounts.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float | str):
            raise InvalidSpec(field, shown, f"{unit} must be a number")
        seconds += float(amount) * _UNIT_SECONDS[unit]
    if not seconds > 0:  # also refuses NaN
        raise InvalidSpec(field, shown, f"give a positive length in one of {', '.join(INTERVAL_UNITS)}")
    if seconds > MAXIMUM_INTERVAL.total_seconds():
        raise InvalidSpec(field, shown, f"is longer than {MAXIMUM_INTERVAL.days} days: give a shorter one")
    period = timedelta(seconds=seconds)
    if period < MINIMUM_INTERVAL:
        raise InvalidSpec("interval", f"{seconds:g} s", "is shorter than EventBridge Scheduler's one minute")
    return period


def _check_jitter(spec: dict[str, Any]) -> None:
    jitter = spec.get("jitter")
    ok = jitter is None or (isinstance(jitter, int | float) and not isinstance(jitter, bool))
    if not ok or (jitter is not None and not 0 <= jitter <= MAXIMUM_JITTER):
        raise InvalidSpec("jitter", jitter, f"give seconds from 0 to {MAXIMUM_JITTER:g}")


def parse_moment(value: Any, timezone: str, field: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is a wall time in `timezone` (DST rule applies)."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError as error:
            raise InvalidSpec(field, value, "must be an ISO 8601 date-time such as 2026-03-27T09:00") from error
    if moment.tzinfo is None:
        return to_instant(moment, zone(timezone))
    return moment.astimezone(zone("UTC"))


def _date(value: Any, field: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError as error:
        raise InvalidSpec(field, value, "must be an ISO 8601 date such as 2026-03-27") from error


def _check_order(start: datetime | date | None, end: datetime | date | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidSpec("end_date", str(end), f"is before the start {start}: give an end after the start")


def _aws_cron_to_unix(body: str, text: str) -> tuple[str, dict[str, Any]]:
    """EventBridge cron (minute hour day-of-month month day-of-week year) as a Unix cron and date bounds."""
    fields = body.split()
    if len(fields) != 6:
        raise InvalidSpec("schedule", text, "an EventBridge cron has 6 fields: minute hour day month weekday year")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise InvalidSpec("schedule", text, "EventBridge cron needs '?' in exactly one of day-of-month and day-of-week")

    def weekday(token: str) -> str:
        match = re.match(r"^([A-Za-z]{3}|\d)(L|#\d)?$", token)
        if not match:
            return token  # *, or something parse_cron will name as wrong
        head, tail = match.group(1), match.group(2) or ""
        number = _AWS_DOW.get(head.upper()) if not head.isdigit() else int(head)
        if number is None or not 1 <= number <= 7:
            raise InvalidSpec("schedule", text, f"day-of-week value {token!r}: use 1-7 (1 = Sunday) or SUN-SAT")
        return f"{number - 1}{tail}"

    def weekdays(part: str) -> str:
        pieces = []
        for item in part.split(","):
            if "-" in item and "#" not in item:
                low, high = item.split("-", 1)
                pieces.append(f"{weekday(low)}-{weekday(high)}")
            else:
                pieces.append(weekday(item))
        return ",".join(pieces)

    unix_dow = "*" if dow == "?" else weekdays(dow)
    unix_dom = "*" if dom == "?" else dom
    bounds: dict[str, Any] = {}
    if year != "*":
        match = re.match(r"^(\d{4})(?:-(\d{4}))?$", year)
        if not match:
            raise InvalidSpec("schedule", text, f"year field {year!r}: give *, a year or a range such as 2026-2027")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        bounds = {"start_year": first, "end_year": last}
    return f"{minute} {hour} {unix_dom} {month} {unix_dow}", bounds


def _cron_trigger(expression: str, timezone: str, spec: dict[str, Any]) -> CronTrigger:
    start = parse_moment(spec["start_date"], timezone, "start_date") if spec.get("start_date") else None
    end = parse_moment(spec["end_date"], timezone, "end_date") if spec.get("end_date") else None
    _check_order(start, end)
    cron = parse_cron(expression)
    if len(cron.seconds) > 1:  # more than one second a minute: fires closer than EventBridge can
        gap = min(b - a for a, b in zip(cron.seconds, cron.seconds[1:], strict=False))
        raise InvalidSpec("cron", expression, f"fires {gap} s apart: EventBridge Scheduler fires at most once a minute")
    return CronTrigger(cron, timezone, start, end, spec.get("jitter"))


@_refusing_malformed
def trigger_from_dict(spec: dict[str, Any], timezone: str, now: datetime | None = None) -> Trigger:
    """A trigger from its JSON form (the shape of APScheduler's trigger arguments, plus "type")."""
    now = now or utc_now()
    if not isinstance(spec, dict):
        raise InvalidSpec("trigger", spec, 'give a JSON object with a "type"')
    _check_jitter(spec)
    kind = spec.get("type")
    timezone = spec.get("timezone") or timezone
    zone(timezone)
    known = {"interval", "date", "calendarinterval", "cron", "or", "and"}
    if kind not in known:
        raise InvalidSpec("trigger type", kind, f"use one of {', '.join(sorted(known))}")
    if kind == "cron":
        if "expression" not in spec:
            raise InvalidSpec("trigger", spec, 'a cron trigger needs "expression", e.g. "0 9 * * mon-fri"')
        return _cron_trigger(spec["expression"], timezone, spec)
    if kind == "date":
        if "run_date" not in spec:
            raise InvalidSpec("trigger", spec, 'a date trigger needs "run_date"')
        return DateTrigger(parse_moment(spec["run_date"], timezone, "run_date"), timezone)
    if kind == "interval":
        period = bounded_period({unit: spec.get(unit, 0) for unit in INTERVAL_UNITS}, spec)
        start = parse_moment(spec["start_date"], timezone, "start_date") if spec.get("start_date") else now + period
        end = parse_moment(spec["end_date"], timezone, "end_date") if spec.get("end_date") else None
        _check_order(start, end)
        return IntervalTrigger(period, start, end, timezone, spec.get("jitter"))
    if kind == "calendarinterval":
        counts = {unit: int(spec.get(unit, 0)) for unit in ("years", "months", "weeks", "days")}
        if any(v < 0 for v in counts.values()) or not any(counts.values()):
            raise InvalidSpec("calendarinterval", spec, "give a positive years, months, weeks or days")
        if counts["years"] * 366 + counts["months"] * 31 + (counts["weeks"] * 7) + counts["days"] > 3660:
            raise InvalidSpec(
                "calendarinterval", spec, f"is longer than {MAXIMUM_INTERVAL.days} days: give a shorter one"
            )
        at = time(int(spec.get("hour", 0)), int(spec.get("minute", 0)), int(spec.get("second", 0)))
        start_day = _date(spec["start_date"], "start_date") if spec.get("start_date") else now.date()
        end_day = _date(spec["end_date"], "end_date") if spec.get("end_date") else None
        _check_order(start_day, end_day)
        return CalendarIntervalTrigger(
            **counts, at=at, start_date=start_day, end_date=end_day, timezone=timezone, jitter=spec.get("jitter")
        )
    children = spec.get("triggers")
    if not isinstance(children, list) or not children:
        raise InvalidSpec("trigger", spec, f'an "{kind}" trigger needs a non-empty "triggers" list')
    parsed = tuple(trigger_from_dict(child, timezone, now) for child in children)
    combined = OrTrigger if kind == "or" else AndTrigger
    return combined(parsed, timezone, spec.get("jitter"))


@_refusing_malformed
def parse_trigger(text: str, timezone: str = "UTC", now: datetime | None = None) -> Trigger:
    """A trigger from a Unix cron, `cron(...)`, `rate(...)`, `at(...)` or a JSON trigger."""
    zone(timezone)
    now = now or utc_now()
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            spec = json.loads(stripped)
        except ValueError as error:
            raise InvalidSpec("schedule", text, f"is not valid JSON ({error})") from error
        return trigger_from_dict(spec, timezone, now)
    if match := _RATE.match(stripped):
        value, unit = int(match.group(1)), match.group(2).rstrip("s") + "s"
        if value <= 0:
            raise InvalidSpec("schedule", text, "a rate must be positive")
        period = bounded_period({unit: value}, text, "schedule")
        return IntervalTrigger(period, now + period, None, timezone)
    if match := _AT.match(stripped):
        return DateTrigger(parse_moment(match.group(1), timezone, "at"), timezone)
    if match := _AWS_CRON.match(stripped):
        unix, bounds = _aws_cron_to_unix(match.group(1), text)
        options: dict[str, Any] = {}
        if bounds:
            options["start_date"] = datetime(bounds["start_year"], 1, 1).isoformat()
            options["end_date"] = datetime(bounds["end_year"], 12, 31, 23, 59, 59).isoformat()
        return _cron_trigger(unix, timezone, options)
    if stripped.startswith(("rate(", "at(", "cron(")):
        raise InvalidSpec(
            "schedule", text, "write rate(N minutes|hours|days), at(YYYY-MM-DDThh:mm:ss) or cron(6 fields)"
        )
    return _cron_trigger(stripped, timezone, {})
