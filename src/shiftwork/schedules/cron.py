"""Unix cron, with names, ranges, steps, lists, L, W and #, and an optional leading seconds field.

Days: when both day-of-month and day-of-week are restricted, a day matches if either does (the Unix rule).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shiftwork.errors import InvalidSpec

MONTHS = {
    name: i
    for i, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
WEEKDAYS = {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
FIELD_NAMES = ("second", "minute", "hour", "day of month", "month", "day of week")
RANGES = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "day of month": (1, 31),
    "month": (1, 12),
    "day of week": (0, 7),
}
HORIZON_YEARS = 30  # a cron with no fire within this many years never fires (Feb 29 on a Monday: 28 years)


@dataclass(frozen=True)
class Days:
    """Day-of-month and day-of-week constraints with their special forms."""

    dom: frozenset[int]
    dom_last: bool = False  # L
    dom_last_weekday: bool = False  # LW
    dom_nearest_weekday: frozenset[int] = frozenset()  # 15W
    dow: frozenset[int] = frozenset()  # 0=Sunday
    dow_last: frozenset[int] = frozenset()  # 5L: the last Friday
    dow_nth: frozenset[tuple[int, int]] = frozenset()  # 5#3: the third Friday
    dom_restricted: bool = False
    dow_restricted: bool = False

    def _dom_matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if day.day in self.dom or (self.dom_last and day.day == last):
            return True
        if self.dom_last_weekday and day == _nearest_weekday(day.replace(day=last)):
            return True
        return any(n <= last and day == _nearest_weekday(day.replace(day=n)) for n in self.dom_nearest_weekday)

    def _dow_matches(self, day: date) -> bool:
        weekday = (day.weekday() + 1) % 7
        if weekday in self.dow:
            return True
        last = calendar.monthrange(day.year, day.month)[1]
        if weekday in self.dow_last and day.day + 7 > last:
            return True
        return (weekday, (day.day - 1) // 7 + 1) in self.dow_nth

    def matches(self, day: date) -> bool:
        if self.dom_restricted and self.dow_restricted:
            return self._dom_matches(day) or self._dow_matches(day)
        if self.dom_restricted:
            return self._dom_matches(day)
        if self.dow_restricted:
            return self._dow_matches(day)
        return True


def _nearest_weekday(day: date) -> date:
    """The weekday nearest `day` within its month (the W of cron)."""
    weekday = day.weekday()
    if weekday < 5:
        return day
    last = calendar.monthrange(day.year, day.month)[1]
    if weekday == 5:  # Saturday: Friday before, unless that leaves the month
        return day - timedelta(days=1) if day.day > 1 else day + timedelta(days=2)
    return day + timedelta(days=1) if day.day < last else day - timedelta(days=2)  # Sunday


@dataclass(frozen=True)
class CronSpec:
    text: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    days: Days

    @property
    def has_seconds(self) -> bool:
        return self.seconds != (0,)

    def wall_times(self, start: datetime) -> Iterator[datetime]:
        """Matching naive wall times >= start, ascending."""
        day = start.date()
        stop = date(min(start.year + HORIZON_YEARS, 9999), 1, 1)
        first = True
        while day < stop:
            if day.month not in self.months:
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                first = False
                continue
            if self.days.matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        for second in self.seconds:
                            moment = datetime.combine(day, time(hour, minute, second))
                            if not first or moment >= start:
                                yield moment
            day += timedelta(days=1)
            first = False


def _error(text: str, field: str, value: str, why: str) -> InvalidSpec:
    return InvalidSpec("cron", text, f"{field} field {value!r}: {why}")


def _number(text: str, field: str, token: str) -> int:
    names = MONTHS if field == "month" else WEEKDAYS if field == "day of week" else {}
    lowered = token.lower()
    if lowered in names:
        return names[lowered]
    if not token.isdigit():
        known = f" (names: {', '.join(names)})" if names else ""
        raise _error(text, field, token, f"is not a number{known}")
    value = int(token)
    low, high = RANGES[field]
    if not low <= value <= high:
        raise _error(text, field, token, f"is out of range {low}-{high}")
    return value


def _values(text: str, field: str, part: str) -> set[int]:
    low, high = RANGES[field]
    step = 1
    if "/" in part:
        part, _, step_text = part.partition("/")
        if not step_text.isdigit() or int(step_text) == 0:
            raise _error(text, field, step_text, "a step must be a positive whole number")
        step = int(step_text)
    if part in ("*", "?"):
        start, end = low, high
    elif "-" in part:
        first, _, last = part.partition("-")
        start, end = _number(text, field, first), _number(text, field, last)
        if start > end:
            raise _error(text, field, part, "a range must go from low to high")
    else:
        start = _number(text, field, part)
        end = high if step > 1 else start
    values = set(range(start, end + 1, step))
    if field == "day of week" and 7 in values:
        values = (values - {7}) | {0}
    return values


def parse_cron(text: str) -> CronSpec:
    """Parse a 5-field Unix cron, or 6 fields with seconds first."""
    fields = text.split()
    if len(fields) not in (5, 6):
        raise InvalidSpec(
            "cron", text, f"has {len(fields)} fields: give 5 (minute hour day month weekday) or 6 (seconds first)"
        )
    if len(fields) == 5:
        fields = ["0", *fields]
    parsed: dict[str, set[int]] = {}
    days: dict[str, object] = {}
    dom_nearest: set[int] = set()
    dow_last: set[int] = set()
    dow_nth: set[tuple[int, int]] = set()
    for name, value in zip(FIELD_NAMES, fields, strict=True):
        values: set[int] = set()
        for part in value.split(","):
            if not part:
                raise _error(text, name, value, "has an empty list item")
            upper = part.upper()
            if name == "day of month" and upper == "L":
                days["dom_last"] = True
            elif name == "day of month" and upper == "LW":
                days["dom_last_weekday"] = True
            elif name == "day of month" and upper.endswith("W") and upper[:-1].isdigit():
                dom_nearest.add(_number(text, name, part[:-1]))
            elif name == "day of week" and upper.endswith("L") and len(part) > 1:
                dow_last.add(_number(text, name, part[:-1]) % 7)
            elif name == "day of week" and "#" in part:
                weekday, _, nth = part.partition("#")
                if not nth.isdigit() or not 1 <= int(nth) <= 5:
                    raise _error(text, name, part, "the # occurrence must be 1 to 5")
                dow_nth.add((_number(text, name, weekday) % 7, int(nth)))
            else:
                values |= _values(text, name, part)
        parsed[name] = values
    dom_restricted = fields[3] not in ("*", "?")
    dow_restricted = fields[5] not in ("*", "?")
    spec = CronSpec(
        text=text,
        seconds=tuple(sorted(parsed["second"])),
        minutes=tuple(sorted(parsed["minute"])),
        hours=tuple(sorted(parsed["hour"])),
        months=frozenset(parsed["month"]),
        days=Days(
            dom=frozenset(parsed["day of month"]) if dom_restricted else frozenset(range(1, 32)),
            dom_last=bool(days.get("dom_last")),
            dom_last_weekday=bool(days.get("dom_last_weekday")),
            dom_nearest_weekday=frozenset(dom_nearest),
            dow=frozenset(parsed["day of week"]),
            dow_last=frozenset(dow_last),
            dow_nth=frozenset(dow_nth),
            dom_restricted=dom_restricted,
            dow_restricted=dow_restricted,
        ),
    )
    if not (spec.days.dom or spec.days.dom_last or spec.days.dom_last_weekday or spec.days.dom_nearest_weekday):
        raise InvalidSpec("cron", text, "day of month field matches no day")
    return spec
