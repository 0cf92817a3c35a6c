"""What EventBridge Scheduler does with an expression: the fire instants of cron(), rate() and at().

Written from AWS's documentation, apart from the trigger model, so that tests can hold compiled schedules
against their source triggers; the embedded stack's clock uses it to fire the schedules it reads back from the
EventBridge Scheduler API. Wall-clock times that a DST change skips do not fire (as EventBridge Scheduler);
repeated ones fire at their first occurrence.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shiftwork.errors import InvalidSpec

_MONTHS = {
    m: i
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _expand(token: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in token.split(","):
        base, _, step = item.partition("/")
        if base in ("*", "?"):
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = names.get(a.upper()) or int(a), names.get(b.upper()) or int(b)
        else:
            first = names.get(base.upper()) or int(base)
            last = high if step else first
        values |= set(range(first, last + 1, int(step) if step else 1))
    return values


@dataclass(frozen=True)
class AwsCron:
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: str
    months: frozenset[int]
    dow: str
    years: str

    @classmethod
    def parse(cls, body: str) -> AwsCron:
        fields = body.split()
        if len(fields) != 6:
            raise InvalidSpec("expression", body, "EventBridge cron has 6 fields")
        minute, hour, dom, month, dow, year = fields
        return cls(
            frozenset(_expand(minute, 0, 59, {})),
            frozenset(_expand(hour, 0, 23, {})),
            dom,
            frozenset(_expand(month, 1, 12, _MONTHS)),
            dow,
            year,
        )

    def _year_ok(self, year: int) -> bool:
        return self.years == "*" or year in _expand(self.years, 1970, 2199, {})

    def _dom_ok(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if self.dom == "?":
            return True
        if self.dom == "L":
            return day.day == last
        if self.dom == "LW":
            return day == _weekday_nearest(date(day.year, day.month, last))
        if match := re.fullmatch(r"(\d+)W", self.dom):
            target = int(match.group(1))
            return target <= last and day == _weekday_nearest(date(day.year, day.month, target))
        return day.day in _expand(self.dom, 1, 31, {})

    def _dow_ok(self, day: date) -> bool:
        aws_weekday = (day.weekday() + 1) % 7 + 1  # 1 = Sunday
        if self.dow == "?":
            return True
        if match := re.fullmatch(r"(\w+)L", self.dow):
            wanted = _DAYS.get(match.group(1).upper()) or int(match.group(1))
            return aws_weekday == wanted and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        if match := re.fullmatch(r"(\w+)#(\d)", self.dow):
            wanted = _DAYS.get(match.group(1).upper()) or int(match.group(1))
            return aws_weekday == wanted and (day.day - 1) // 7 + 1 == int(match.group(2))
        return aws_weekday in _expand(self.dow, 1, 7, _DAYS)

    def day_matches(self, day: date) -> bool:
        return day.month in self.months and self._year_ok(day.year) and self._dom_ok(day) and self._dow_ok(day)


def _weekday_nearest(day: date) -> date:
    if day.weekday() < 5:
        return day
    last = calendar.monthrange(day.year, day.month)[1]
    if day.weekday() == 5:
        return day - timedelta(days=1) if day.day > 1 else day + timedelta(days=2)
    return day + timedelta(days=1) if day.day < last else day - timedelta(days=2)


def fire_times(
    expression: str,
    timezone: str,
    start: datetime,
    end: datetime,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
) -> Iterator[datetime]:
    """The instants in [start, end] at which EventBridge Scheduler fires the schedule."""
    tz = ZoneInfo(timezone)
    begin = max(start, start_date) if start_date else start
    finish = min(end, end_date) if end_date else end
    if match := re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", expression):
        instant = datetime.fromisoformat(match.group(1)).replace(tzinfo=tz).astimezone(UTC)
        if begin <= instant <= finish:
            yield instant
        return
    if match := re.fullmatch(r"rate\((\d+) (\w+)\)", expression):
        period = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
        anchor = start_date or begin  # a rate counts from the schedule's start date
        instant = anchor + max(0, -(-(begin - anchor) // period)) * period
        while instant <= finish:
            yield instant
            instant += period
        return
    match = re.fullmatch(r"cron\((.*)\)", expression)
    if not match:
        raise InvalidSpec("expression", expression, "is not cron(...), rate(...) or at(...)")
    cron = AwsCron.parse(match.group(1))
    day = begin.astimezone(tz).date() - timedelta(days=1)
    while datetime.combine(day, time(0), tz) <= finish + timedelta(days=1):
        if cron.day_matches(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    wall = datetime.combine(day, time(hour, minute))
                    aware = wall.replace(tzinfo=tz)
                    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
                        continue  # skipped by a spring-forward gap
                    instant = aware.astimezone(UTC)  # fold=0: the first of a repeated time
                    if begin <= instant <= finish:
                        yield instant
        day += timedelta(days=1)
