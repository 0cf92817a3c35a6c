"""The trigger model: when a definition fires. Every trigger yields UTC instants, ascending.

Cron and calendar-interval triggers are wall-clock triggers in their time zone and follow the DST rule of
shiftwork.schedules.dst; interval triggers count elapsed time.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any

from shiftwork.errors import InvalidSpec
from shiftwork.schedules.cron import CronSpec, parse_cron
from shiftwork.schedules.dst import to_instant, to_wall, zone

AND_MAX_ITERATIONS = 10_000


class Trigger(ABC):
    """When something fires."""

    timezone: str
    jitter: float | None = None

    @abstractmethod
    def fire_times(self, start: datetime) -> Iterator[datetime]:
        """Fire instants (aware, UTC) at or after `start`, ascending."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The JSON form `parse_trigger` reads back."""

    def describe(self) -> str:
        """How users wrote it: the cron expression, else the JSON trigger."""
        data = {k: v for k, v in self.to_dict().items() if v is not None}
        return str(data["expression"]) if data.get("type") == "cron" else json.dumps(data)

    def next_fire(self, start: datetime) -> datetime | None:
        return next(iter(self.fire_times(start)), None)

    def preview(self, start: datetime, count: int) -> list[datetime]:
        return list(islice(self.fire_times(start), count))


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _bounded(instants: Iterator[datetime], start: datetime, end: datetime | None) -> Iterator[datetime]:
    for instant in instants:
        if end is not None and instant > end:
            return
        if instant >= start:
            yield instant


@dataclass(frozen=True)
class CronTrigger(Trigger):
    spec: CronSpec
    timezone: str = "UTC"
    start_date: datetime | None = None
    end_date: datetime | None = None
    jitter: float | None = None

    @classmethod
    def from_expression(cls, expression: str, **options: Any) -> CronTrigger:
        return cls(parse_cron(expression), **options)

    def fire_times(self, start: datetime) -> Iterator[datetime]:
        tz = zone(self.timezone)
        begin = max(start, self.start_date) if self.start_date else start
        last: datetime | None = None
        # a wall time in a gap fires at the gap's end, possibly after `begin`: scan from a little earlier
        for wall in self.spec.wall_times(to_wall(begin, tz) - timedelta(hours=3)):
            instant = to_instant(wall, tz)
            if instant < begin or (last is not None and instant <= last):
                continue
            if self.end_date is not None and instant > self.end_date:
                return
            last = instant
            yield instant

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "cron",
            "expression": self.spec.text,
            "timezone": self.timezone,
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "jitter": self.jitter,
        }


@dataclass(frozen=True)
class IntervalTrigger(Trigger):
    period: timedelta
    start_date: datetime  # the first fire
    end_date: datetime | None = None
    timezone: str = "UTC"
    jitter: float | None = None

    def fire_times(self, start: datetime) -> Iterator[datetime]:
        steps = max(0, math.ceil((start - self.start_date) / self.period))
        instant = self.start_date + steps * self.period
        while (self.end_date is None or instant <= self.end_date) and instant.year < 9999:
            yield instant
            instant += self.period

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "interval",
            "seconds": self.period.total_seconds(),
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "timezone": self.timezone,
            "jitter": self.jitter,
        }


@dataclass(frozen=True)
class DateTrigger(Trigger):
    run_date: datetime
    timezone: str = "UTC"
    jitter: float | None = None

    def fire_times(self, start: datetime) -> Iterator[datetime]:
        if self.run_date >= start:
            yield self.run_date

    def to_dict(self) -> dict[str, Any]:
        return {"type": "date", "run_date": _iso(self.run_date), "timezone": self.timezone}


@dataclass(frozen=True)
class CalendarIntervalTrigger(Trigger):
    """Every N years/months/weeks/days at the same wall-clock time, APScheduler's calendar interval."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    at: time = time(0, 0)
    start_date: date = field(default_factory=date.today)
    end_date: date | None = None
    timezone: str = "UTC"
    jitter: float | None = None

    def dates(self) -> Iterator[date]:
        """The firing dates: years and months keep the day of the month (skipping months without it)."""
        current = self.start_date
        while True:
            if self.end_date is not None and current > self.end_date:
                return
            yield current
            year, month = current.year, current.month
            while True:
                month += self.months
                year += self.years + (month - 1) // 12
                month = (month - 1) % 12 + 1
                if year > 9999:
                    return
                try:
                    following = date(year, month, current.day)
                    break
                except ValueError:
                    continue  # no such day in that month
            current = following + timedelta(days=self.days + 7 * self.weeks)

    def fire_times(self, start: datetime) -> Iterator[datetime]:
        tz = zone(self.timezone)
        last: datetime | None = None
        for day in self.dates():
            instant = to_instant(datetime.combine(day, self.at), tz)
            if instant >= start and (last is None or instant > last):
                last = instant
                yield instant

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "calendarinterval",
            "years": self.years,
            "months": self.months,
            "weeks": self.weeks,
            "days": self.days,
            "hour": self.at.hour,
            "minute": self.at.minute,
            "second": self.at.second,
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "timezone": self.timezone,
            "jitter": self.jitter,
        }


@dataclass(frozen=True)
class OrTrigger(Trigger):
    """Fires whenever any of its triggers does (once per instant)."""

    triggers: tuple[Trigger, ...]
    timezone: str = "UTC"
    jitter: float | None = None

    def fire_times(self, start: datetime) -> Iterator[datetime]:
        iterators = [iter(t.fire_times(start)) for t in self.triggers]
        heads = [next(it, None) for it in iterators]
        last = None
        while any(h is not None for h in heads):
            instant = min(h for h in heads if h is not None)
            for index, head in enumerate(heads):
                if head == instant:
                    heads[index] = next(iterators[index], None)
            if instant != last:
                last = instant
                yield instant

    def to_dict(self) -> dict[str, Any]:
        return {"type": "or", "triggers": [t.to_dict() for t in self.triggers], "jitter": self.jitter}


@dataclass(frozen=True)
class AndTrigger(Trigger):
    """Fires when all of its triggers fire at the same instant."""

    triggers: tuple[Trigger, ...]
    timezone: str = "UTC"
    jitter: float | None = None

    def fire_times(self, start: datetime) -> Iterator[datetime]:
        moment = start
        while True:
            agreed = self._agree_from(moment)
            if agreed is None:
                return
            yield agreed
            moment = agreed + timedelta(microseconds=1)

    def _agree_from(self, moment: datetime) -> datetime | None:
        """The first instant at or after `moment` at which every trigger fires (None: never, within the limit)."""
        for _ in range(AND_MAX_ITERATIONS):
            candidates: list[datetime] = []
            for trigger in self.triggers:
                candidate = trigger.next_fire(moment)
                if candidate is None:
                    return None
                candidates.append(candidate)
            if min(candidates) == max(candidates):
                return candidates[0]
            moment = max(candidates)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "and", "triggers": [t.to_dict() for t in self.triggers], "jitter": self.jitter}


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def check_fires(trigger: Trigger, start: datetime) -> datetime:
    """The first fire at or after start, or an error saying the trigger never fires."""
    first = trigger.next_fire(start)
    if first is None:
        raise InvalidSpec("schedule", trigger.describe(), "never fires after its start: check its dates and fields")
    return first
