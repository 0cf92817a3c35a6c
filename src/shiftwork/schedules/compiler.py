"""compile_to_eventbridge: the fewest EventBridge Scheduler schedules that fire exactly when a trigger does.

Kinds: cron (with the user's time zone), rate, at, and rearm: a one-shot at() for the next fire, which the
dispatcher re-arms after every fire, for what EventBridge cannot express exactly (And, week intervals, seconds,
jitter, calendar intervals, and a cron whose wall times meet a DST gap or overlap in its zone: EventBridge
Scheduler skips gap times, where Shiftwork's DST rule fires once after the gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shiftwork.errors import InvalidSpec
from shiftwork.schedules.cron import CronSpec
from shiftwork.schedules.dst import to_wall, zone
from shiftwork.schedules.triggers import (
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
    Trigger,
    utc_now,
)

Kind = Literal["cron", "rate", "at", "rearm"]
MAX_EXPRESSION = 256  # AWS::Scheduler::Schedule ScheduleExpression
DST_LOOKAHEAD_YEARS = 3  # DST rules repeat yearly; three years also catch a rule change already announced


@dataclass(frozen=True)
class CompiledSchedule:
    kind: Kind
    expression: str
    timezone: str
    start_date: datetime | None = None
    end_date: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "expression": self.expression, "timezone": self.timezone}
        if self.start_date is not None:
            data["start_date"] = self.start_date.isoformat()
        if self.end_date is not None:
            data["end_date"] = self.end_date.isoformat()
        return data


def at_expression(instant: datetime) -> str:
    return f"at({instant.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def rearm(trigger: Trigger, after: datetime) -> CompiledSchedule:
    """A one-shot schedule for the trigger's next fire at or after `after`."""
    following = trigger.next_fire(after)
    if following is None:
        raise InvalidSpec("schedule", trigger.describe(), "never fires again: nothing to schedule")
    return CompiledSchedule("rearm", at_expression(following), "UTC")


def transitions(timezone: str, start: datetime, years: int = DST_LOOKAHEAD_YEARS) -> list[datetime]:
    """UTC instants at which the zone's UTC offset changes, from start for `years`."""
    tz = zone(timezone)
    found = []
    moment = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = moment + timedelta(days=366 * years)
    step = timedelta(hours=6)
    while moment < end:
        following = moment + step
        if moment.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = int(moment.timestamp()), int(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, tz).utcoffset() == moment.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(datetime.fromtimestamp(high, UTC))
        moment = following
    return found


def meets_dst_change(spec: CronSpec, timezone: str, start: datetime) -> bool:
    """Whether any wall time the cron matches is skipped or repeated by a DST change in the zone."""
    tz = zone(timezone)
    for change in transitions(timezone, start):
        before = to_wall(change - timedelta(seconds=1), tz)
        after = to_wall(change, tz)
        low, high = (before, after) if after > before else (after, before)  # the gap, or the repeated hour
        first = next(iter(spec.wall_times(low)), None)
        if first is not None and first <= high:
            return True
    return False


def _field(values: set[int] | frozenset[int] | tuple[int, ...], full: range, offset: int = 0) -> str:
    """A cron field as EventBridge writes it: `*`, `a/step` for a progression to the field's end, else a list of
    values and `a-b` runs (`*/2` minutes is `0/2`, not thirty numbers)."""
    chosen = sorted(values)
    if set(chosen) == set(full):
        return "*"
    step = chosen[1] - chosen[0] if len(chosen) > 2 else 0
    if step > 1 and chosen == list(range(chosen[0], full.stop, step)):
        return f"{chosen[0] + offset}/{step}"
    items, start = [], 0
    for index in range(1, len(chosen) + 1):
        if index == len(chosen) or chosen[index] != chosen[index - 1] + 1:
            first, last = chosen[start] + offset, chosen[index - 1] + offset
            items.append(str(first) if first == last else f"{first},{last}" if last == first + 1 else f"{first}-{last}")
            start = index
    return ",".join(items)


def _aws_crons(spec: CronSpec) -> list[str] | None:
    """The spec as EventBridge cron expressions (two when day-of-month and day-of-week are ORed), or None."""
    days = spec.days
    minutes = _field(spec.minutes, range(60))
    hours = _field(spec.hours, range(24))
    months = _field(spec.months, range(1, 13))

    def dom_field() -> str | None:
        special = ["L"] * days.dom_last + ["LW"] * days.dom_last_weekday
        special += [f"{n}W" for n in sorted(days.dom_nearest_weekday)]
        if special:  # EventBridge takes L, LW and nW alone in the field
            return special[0] if len(special) == 1 and not days.dom else None
        return _field(days.dom, range(1, 32))

    def dow_field() -> str | None:
        specials = len(days.dow_last) + len(days.dow_nth)
        if specials > 1 or (specials and days.dow):
            return None
        if days.dow_last:
            return f"{next(iter(days.dow_last)) + 1}L"
        if days.dow_nth:
            weekday, nth = next(iter(days.dow_nth))
            return f"{weekday + 1}#{nth}"
        return _field(days.dow, range(7), offset=1)

    dom, dow = dom_field(), dow_field()
    if dom is None or dow is None:
        return None
    if days.dom_restricted and days.dow_restricted:
        expressions = [f"cron({minutes} {hours} {dom} {months} ? *)", f"cron({minutes} {hours} ? {months} {dow} *)"]
    elif days.dow_restricted:
        expressions = [f"cron({minutes} {hours} ? {months} {dow} *)"]
    else:
        expressions = [f"cron({minutes} {hours} {dom} {months} ? *)"]
    if any(len(e) > MAX_EXPRESSION for e in expressions):
        return None
    return expressions


def _rate(period: timedelta) -> str | None:
    seconds = int(period.total_seconds())
    if seconds != period.total_seconds() or seconds % 60:
        return None  # seconds: EventBridge rates count whole minutes
    minutes = seconds // 60
    if minutes % (7 * 24 * 60) == 0:
        return None  # week intervals are re-armed
    if minutes % (24 * 60) == 0:
        value, unit = minutes // (24 * 60), "day"
    elif minutes % 60 == 0:
        value, unit = minutes // 60, "hour"
    else:
        value, unit = minutes, "minute"
    return f"rate({value} {unit}{'s' if value > 1 else ''})"


def _compile(trigger: Trigger, now: datetime) -> list[CompiledSchedule] | None:
    """Exact EventBridge schedules for `trigger`, or None when it must be re-armed."""
    if trigger.jitter:
        return None
    if isinstance(trigger, DateTrigger):
        return [CompiledSchedule("at", at_expression(trigger.run_date), "UTC")]
    if isinstance(trigger, IntervalTrigger):
        expression = _rate(trigger.period)
        if expression is None:
            return None
        return [CompiledSchedule("rate", expression, "UTC", trigger.start_date, trigger.end_date)]
    if isinstance(trigger, CronTrigger):
        spec = trigger.spec
        if spec.has_seconds or len(spec.seconds) != 1:
            return None
        if meets_dst_change(spec, trigger.timezone, trigger.start_date or now):
            return None
        expressions = _aws_crons(spec)
        if expressions is None:
            return None
        return [
            CompiledSchedule("cron", e, trigger.timezone, trigger.start_date, trigger.end_date) for e in expressions
        ]
    if isinstance(trigger, OrTrigger):
        compiled: list[CompiledSchedule] = []
        for child in trigger.triggers:
            part = _compile(child, now)
            if part is None:
                return None  # one at() re-armed for the whole Or is fewer schedules than mixing
            compiled += part
        return compiled
    return None  # And, calendar interval


def compile_to_eventbridge(trigger: Trigger, now: datetime | None = None) -> list[CompiledSchedule]:
    """The EventBridge Scheduler schedules for a trigger; a trigger that never fires is an error."""
    now = now or utc_now()
    compiled = _compile(trigger, now)
    if compiled is None:
        return [rearm(trigger, now)]
    if trigger.next_fire(now) is None:
        raise InvalidSpec("schedule", trigger.describe(), "never fires after now: check its dates and fields")
    return compiled
