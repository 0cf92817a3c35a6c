"""Fire times against independent oracles: croniter (Unix cron) and APScheduler 3 (the other triggers).

The oracles give wall-clock times; the DST rule is applied here, independently of shiftwork.schedules.dst:
a wall time that does not exist fires at the first instant after the gap, a repeated one at its first
occurrence, and each instant fires once.
"""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger as ApsCalendar
from apscheduler.triggers.combining import AndTrigger as ApsAnd
from apscheduler.triggers.combining import OrTrigger as ApsOr
from apscheduler.triggers.cron import CronTrigger as ApsCron
from apscheduler.triggers.date import DateTrigger as ApsDate
from apscheduler.triggers.interval import IntervalTrigger as ApsInterval
from croniter import croniter

from shiftwork.schedules import parse_trigger

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2028, 1, 1, tzinfo=UTC)  # two years, every DST change of 2026 and 2027
ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere
    "Asia/Kolkata",  # half-hour offset, no DST
    "Australia/Lord_Howe",  # half-hour DST shift
    "America/St_Johns",  # half-hour offset with DST
]


def oracle_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    aware = wall.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return aware.astimezone(UTC)
    probe = (wall - timedelta(hours=16)).replace(tzinfo=UTC)
    while probe.astimezone(tz).replace(tzinfo=None) <= wall:  # zone changes fall on whole minutes
        probe += timedelta(minutes=1)
    return probe


def apply_rule(walls: list[datetime], tz: ZoneInfo) -> list[datetime]:
    instants: list[datetime] = []
    for wall in walls:
        instant = oracle_instant(wall, tz)
        if START <= instant < END and (not instants or instant > instants[-1]):
            instants.append(instant)
    return instants


def ours(text: str, timezone: str, end: datetime = END) -> list[datetime]:
    trigger = parse_trigger(text, timezone, now=START)
    return list(itertools.takewhile(lambda t: t < end, trigger.fire_times(START)))


CRONS = [
    "0 9 * * mon-fri",
    "30 2 * * *",  # inside the spring-forward gap in New York, London at 01:00 is the gap there
    "30 1 * * *",
    "*/20 0-3 * * *",
    "45 23 * * sun",
    "0 0 1,15 * *",
    "15 10 13 * 5",  # day-of-month OR day-of-week
    "0 12 L * *",
    "0 8 * * 1#2",
    "0 8 * * 5L",
    "5 4 * jan,jul sun",
    "0 */6 * * *",
]


@pytest.mark.parametrize("timezone", ZONES)
@pytest.mark.parametrize("expression", CRONS)
def test_unix_cron_matches_croniter(expression, timezone):
    tz = ZoneInfo(timezone)
    oracle_text = expression.replace("5L", "L5")  # croniter's spelling of "last Friday"
    walls = []
    iterator = croniter(oracle_text, (START.astimezone(tz) - timedelta(days=1)).replace(tzinfo=None))
    while True:
        wall = iterator.get_next(datetime)
        if wall > (END.astimezone(tz) + timedelta(days=1)).replace(tzinfo=None):
            break
        walls.append(wall)
    assert ours(expression, timezone) == apply_rule(walls, tz)


def _nearest_weekday(year: int, month: int, day: int) -> date:
    """Cron's `W`: the weekday nearest the day, in the same month (croniter 1.4, which jupyter-scheduler pins,
    cannot read W)."""
    wanted = date(year, month, day)
    if wanted.weekday() < 5:
        return wanted
    saturday = wanted.weekday() == 5
    friday, monday = wanted - timedelta(days=1 if saturday else 2), wanted + timedelta(days=2 if saturday else 1)
    nearer, other = (friday, monday) if saturday else (monday, friday)
    return nearer if nearer.month == month else other


@pytest.mark.parametrize("timezone", ZONES)
@pytest.mark.parametrize("day", [1, 15, 31])
def test_nearest_weekday_cron(day, timezone):
    tz = ZoneInfo(timezone)
    walls = [
        datetime.combine(_nearest_weekday(year, month, day), time(9))
        for year, month in itertools.product((2025, 2026, 2027, 2028), range(1, 13))
        if calendar.monthrange(year, month)[1] >= day  # a month without that day has no fire
    ]
    assert ours(f"0 9 {day}W * *", timezone) == apply_rule(walls, tz)


def test_six_field_cron_with_seconds_first():
    expected = [datetime(2026, 1, day, 0, 0, 15, tzinfo=UTC) for day in (1, 2)]
    assert ours("15 0 0 * * *", "UTC")[:2] == expected


def _aps_walls(trigger, timezone: str, end: datetime = END, chain: bool = True) -> list[datetime]:
    """APScheduler's fire times (a trigger built in UTC, so it has no DST) as naive wall times.

    chain=False asks "next at or after now" each time: APScheduler 3's AndTrigger never moves past a previous
    fire time it is given (it loops), so combined triggers are asked that way.
    """
    walls, previous = [], None
    now = START - timedelta(days=1)
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire > end + timedelta(days=2):
            return walls
        walls.append(fire.replace(tzinfo=None))
        previous, now = (fire, fire) if chain else (None, fire + timedelta(microseconds=1))
        if len(walls) > 200_000:
            raise AssertionError("runaway oracle")


@pytest.mark.parametrize("timezone", ZONES)
def test_calendar_interval_matches_apscheduler(timezone):
    tz = ZoneInfo(timezone)
    cases = [
        ({"months": 1}, time(2, 30), date(2026, 1, 31)),  # skips months without a 31st; 02:30 meets DST gaps
        ({"weeks": 1}, time(1, 30), date(2026, 1, 4)),
        ({"days": 3}, time(23, 0), date(2026, 1, 1)),
        ({"years": 1}, time(9, 0), date(2026, 2, 28)),
        ({"months": 2, "days": 1}, time(0, 15), date(2026, 1, 10)),
    ]
    for counts, at, start_day in cases:
        aps = ApsCalendar(**counts, hour=at.hour, minute=at.minute, start_date=start_day, timezone="UTC")
        expected = apply_rule(_aps_walls(aps, timezone), tz)
        spec = {
            "type": "calendarinterval",
            **counts,
            "hour": at.hour,
            "minute": at.minute,
            "start_date": start_day.isoformat(),
        }
        import json

        assert ours(json.dumps(spec), timezone) == expected, counts


@pytest.mark.parametrize("minutes", [1, 7, 90, 24 * 60, 7 * 24 * 60 + 5])
def test_interval_is_elapsed_time_as_apscheduler_in_utc(minutes):
    end = START + timedelta(days=120 if minutes < 60 else 730)  # across DST changes either way
    aps = ApsInterval(minutes=minutes, start_date=START + timedelta(minutes=3), timezone="UTC")
    expected = [w.replace(tzinfo=UTC) for w in _aps_walls(aps, "UTC", end)]
    expected = [e for e in expected if START <= e < end]
    start = (START + timedelta(minutes=3)).isoformat()
    spec = f'{{"type": "interval", "minutes": {minutes}, "start_date": "{start}"}}'
    for timezone in ("UTC", "Europe/London", "Australia/Lord_Howe"):  # elapsed time: the zone changes nothing
        assert ours(spec, timezone, end) == expected


def test_date_matches_apscheduler():
    run = datetime(2026, 7, 4, 12, 30, tzinfo=UTC)
    assert _aps_walls(ApsDate(run_date=run, timezone="UTC"), "UTC") == [run.replace(tzinfo=None)]
    assert ours('{"type": "date", "run_date": "2026-07-04T12:30:00+00:00"}', "UTC") == [run]


# weekday names: APScheduler's from_crontab reads weekday numbers from Monday = 0, Unix from Sunday = 0
COMBINED = [
    ("and", ["*/15 * * * *", "0 9-10 * * mon"]),
    ("and", ["0 */2 * * *", "0 */3 * * *"]),
    ("or", ["0 9 * * mon", "30 17 * * fri"]),
    ("or", ["0 12 1 * *", "0 12 * * sun"]),
]


@pytest.mark.parametrize(("kind", "crons"), COMBINED)
def test_and_or_match_apscheduler(kind, crons):
    import json

    combine = ApsAnd if kind == "and" else ApsOr
    aps = combine([ApsCron.from_crontab(c, timezone="UTC") for c in crons])
    walls = _aps_walls(aps, "UTC", chain=False)
    expected = [w.replace(tzinfo=UTC) for w in walls if START <= w.replace(tzinfo=UTC) < END]
    spec = {"type": kind, "triggers": [{"type": "cron", "expression": c} for c in crons]}
    assert ours(json.dumps(spec), "UTC") == expected


def test_or_with_a_date_is_the_union_of_apschedulers_children():
    """APScheduler 3's OrTrigger hands its previous fire time to a DateTrigger, which then never fires after the
    first fire of another child; Or means "whenever any fires", so the oracle is the union of its children."""
    import json

    run = datetime(2026, 3, 3, 3, 3, tzinfo=UTC)
    weekly = _aps_walls(ApsCron.from_crontab("0 0 * * mon", timezone="UTC"), "UTC")
    once = _aps_walls(ApsDate(run_date=run, timezone="UTC"), "UTC")
    expected = sorted(w.replace(tzinfo=UTC) for w in {*weekly, *once} if START <= w.replace(tzinfo=UTC) < END)
    spec = {
        "type": "or",
        "triggers": [{"type": "cron", "expression": "0 0 * * mon"}, {"type": "date", "run_date": run.isoformat()}],
    }
    assert ours(json.dumps(spec), "UTC") == expected
