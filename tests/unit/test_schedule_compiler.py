"""compile_to_eventbridge: the schedules fire exactly when their trigger does, as EventBridge evaluates them."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from shiftwork.errors import InvalidSpec
from shiftwork.schedules import compile_to_eventbridge, parse_trigger
from shiftwork.schedules.compiler import rearm
from shiftwork.schedules.eventbridge import fire_times

NOW = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2028, 1, 1, tzinfo=UTC)

CASES = [
    ("0 9 * * mon-fri", "Europe/London", ["cron"]),
    ("0 9 * * mon-fri", "Australia/Sydney", ["cron"]),
    ("30 1 * * *", "Europe/London", ["rearm"]),  # 01:30 is skipped and repeated there
    ("30 2 * * *", "America/New_York", ["rearm"]),
    ("30 2 * * *", "Europe/London", ["cron"]),  # London changes at 01:00: 02:30 is safe
    ("*/15 * * * *", "UTC", ["cron"]),
    ("*/15 * * * *", "Asia/Kolkata", ["cron"]),
    ("*/15 * * * *", "Europe/London", ["rearm"]),
    ("15 10 13 * 5", "UTC", ["cron", "cron"]),  # day-of-month OR day-of-week: two schedules
    ("0 12 L * *", "Asia/Kolkata", ["cron"]),
    ("0 8 * * 5L", "America/New_York", ["cron"]),
    ("0 8 * * 1#2", "Australia/Lord_Howe", ["cron"]),
    ("0 9 15W * *", "UTC", ["cron"]),
    ("30 0 9 * * *", "UTC", ["rearm"]),  # seconds: 09:00:30
    ("rate(5 minutes)", "UTC", ["rate"]),
    ("rate(2 hours)", "Europe/London", ["rate"]),
    ('{"type": "interval", "minutes": 90, "start_date": "2026-01-01T00:10:00+00:00"}', "UTC", ["rate"]),
    ('{"type": "interval", "weeks": 2, "start_date": "2026-01-01T00:10:00+00:00"}', "UTC", ["rearm"]),
    ('{"type": "interval", "seconds": 90, "start_date": "2026-01-01T00:10:00+00:00"}', "UTC", ["rearm"]),
    ('{"type": "date", "run_date": "2026-06-01T12:00:00"}', "Europe/Paris", ["at"]),
    ('{"type": "calendarinterval", "months": 1, "hour": 9, "start_date": "2026-01-31"}', "UTC", ["rearm"]),
    (
        '{"type": "and", "triggers": [{"type": "cron", "expression": "*/15 * * * *"},'
        ' {"type": "cron", "expression": "0 9 * * mon"}]}',
        "UTC",
        ["rearm"],
    ),
    (
        '{"type": "or", "triggers": [{"type": "cron", "expression": "0 9 * * mon"},'
        ' {"type": "cron", "expression": "0 17 * * fri"}]}',
        "America/New_York",
        ["cron", "cron"],
    ),
    ('{"type": "cron", "expression": "0 9 * * *", "jitter": 30}', "UTC", ["rearm"]),
    (
        '{"type": "cron", "expression": "0 9 * * *", "start_date": "2026-03-01T00:00", "end_date": "2026-04-01T00:00"}',
        "Europe/Berlin",
        ["cron"],
    ),
]


def _ours(trigger, end=END):
    return list(itertools.takewhile(lambda t: t <= end, trigger.fire_times(NOW)))


@pytest.mark.parametrize(("text", "timezone", "kinds"), CASES)
def test_compiled_schedules_fire_exactly_as_the_trigger(text, timezone, kinds):
    trigger = parse_trigger(text, timezone, now=NOW)
    compiled = compile_to_eventbridge(trigger, now=NOW)
    assert [c.kind for c in compiled] == kinds
    if kinds == ["rearm"]:
        # the dispatcher re-arms after each fire: follow the chain of one-shot at() schedules
        fired, schedule = [], compiled[0]
        while len(fired) < 300:
            fire = next(fire_times(schedule.expression, schedule.timezone, NOW, END + timedelta(days=400)), None)
            if fire is None or fire > END:
                break
            fired.append(fire)
            try:
                schedule = rearm(trigger, fire + timedelta(microseconds=1))
            except InvalidSpec:
                break
        assert fired == _ours(trigger)[: len(fired)]
        assert fired
        return
    evaluated = sorted(
        {t for c in compiled for t in fire_times(c.expression, c.timezone, NOW, END, c.start_date, c.end_date)}
    )
    assert evaluated == _ours(trigger)
    assert evaluated


def test_eventbridge_skips_wall_times_in_a_dst_gap():
    fired = list(fire_times("cron(30 2 * * ? *)", "America/New_York", NOW, datetime(2026, 3, 10, tzinfo=UTC)))
    days = {t.astimezone(UTC).date().isoformat() for t in fired}
    assert "2026-03-08" not in days  # 02:30 did not happen that night
    assert "2026-03-07" in days and "2026-03-09" in days


def test_compile_json_shape():
    compiled = compile_to_eventbridge(parse_trigger("0 9 * * mon-fri", "Europe/London", now=NOW), now=NOW)
    assert [c.to_dict() for c in compiled] == [
        {"kind": "cron", "expression": "cron(0 9 ? * 2-6 *)", "timezone": "Europe/London"}
    ]


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("*/2 * * * *", "cron(0/2 * * * ? *)"),
        ("5-59/10 * * * *", "cron(5/10 * * * ? *)"),
        ("0 */6 * * *", "cron(0 0/6 * * ? *)"),
        ("*/15 9-17 * * 1-5", "cron(0/15 9-17 ? * 2-6 *)"),
        ("0,1,2,30 8,9 * * *", "cron(0-2,30 8,9 * * ? *)"),
        ("0 9 * 1-3,6 *", "cron(0 9 * 1-3,6 ? *)"),
        ("0-30/10 * * * *", "cron(0,10,20,30 * * * ? *)"),  # a progression that stops short stays a list
    ],
)
def test_fields_are_written_as_eventbridge_would(text, expression):
    (compiled,) = compile_to_eventbridge(parse_trigger(text, "UTC", now=NOW), now=NOW)
    assert compiled.expression == expression
    week = NOW + timedelta(days=7)
    expected = list(itertools.takewhile(lambda t: t <= week, parse_trigger(text, "UTC", now=NOW).fire_times(NOW)))
    assert list(fire_times(compiled.expression, "UTC", NOW, week)) == expected


@pytest.mark.parametrize(
    ("text", "timezone", "says"),
    [
        ("0 9 * *", "UTC", "has 4 fields"),
        ("61 9 * * *", "UTC", "minute field '61': is out of range 0-59"),
        ("0 9 * * funday", "UTC", "day of week field 'funday': is not a number"),
        ("0 9 * * *", "Mars/Olympus", "timezone 'Mars/Olympus': is not an IANA time zone"),
        ('{"type": "interval", "seconds": 20}', "UTC", "shorter than EventBridge Scheduler's one minute"),
        (
            '{"type": "cron", "expression": "0 9 * * *", "start_date": "2026-05-01", "end_date": "2026-04-01"}',
            "UTC",
            "end_date",
        ),
        ("0 0 30 2 *", "UTC", "never fires"),
        ('{"type": "weekly"}', "UTC", "trigger type 'weekly'"),
        ("cron(0 9 * * * *)", "UTC", "exactly one of day-of-month and day-of-week"),
        ("rate(5 fortnights)", "UTC", "write rate(N minutes|hours|days)"),
        ("*/10 * * * * *", "UTC", "fires 10 s apart: EventBridge Scheduler fires at most once a minute"),
    ],
)
def test_bad_schedules_say_what_and_why(text, timezone, says):
    with pytest.raises(InvalidSpec, match=None) as error:
        compile_to_eventbridge(parse_trigger(text, timezone, now=NOW), now=NOW)
    assert says in str(error.value)


def _lint(expressions):
    from cfnlint.api import lint_all

    resources = {
        f"Schedule{i}": {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "ScheduleExpression": c.expression,
                "ScheduleExpressionTimezone": c.timezone,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {
                    "Arn": "arn:aws:lambda:us-east-1:123456789012:function:dispatch",
                    "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                },
            },
        }
        for i, c in enumerate(expressions)
    }
    template = json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
    return [m.rule.id for m in lint_all(template) if m.rule.id[0] in "EW"]


def test_every_compiled_expression_passes_cfn_lint():
    from shiftwork.schedules.compiler import CompiledSchedule

    expressions = []
    for text, timezone, _ in CASES:
        expressions += compile_to_eventbridge(parse_trigger(text, timezone, now=NOW), now=NOW)
    assert len(expressions) >= len(CASES)
    assert _lint(expressions) == []
    # the check has teeth: cfn-lint refuses an expression past the 256 characters EventBridge takes
    too_long = CompiledSchedule("cron", "cron(" + ",".join(map(str, range(60))) * 2 + " * * * ? *)", "UTC")
    assert _lint([too_long]) == ["E3033"]
