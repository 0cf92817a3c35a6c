import pytest

from shiftwork.errors import InvalidSpec
from shiftwork.schedules import Schedule


def test_datatailrs_example():
    schedule = Schedule(
        at_minutes=[0, 15, 30, 45],
        at_hours=[0, 12],
        weekdays=["Mon", "Wed", "Fri"],
        day_of_month=15,
        in_month=["Jan", "Jul"],
    )
    assert schedule.get_cron_string() == "0 0,15,30,45 0,12 15 1,7 1,3,5"


@pytest.mark.parametrize(
    ("fields", "cron"),
    [
        ({"at_hours": [0]}, "0 0 0 * * *"),
        ({"at_minutes": [0, 30], "weekdays": ["Mon", "Wed", "Fri"]}, "0 0,30 * * * 1,3,5"),
        ({"every_minute": 5}, "0 */5 * * * *"),
        ({"every_hour": 2}, "0 0 */2 * * *"),
        ({"every_month": 3, "day_of_month": 1}, "0 0 0 1 */3 *"),
        ({"at_hours": [8, 16], "weekdays": ["mon", "tue", "wed", "thu", "fri"]}, "0 0 8,16 * * 1,2,3,4,5"),
        ({"in_month": ["December"], "day_of_month": 24, "at_hours": [18]}, "0 0 18 24 12 *"),
        ({"cron_expression": "0 30 9 * * 1-5"}, "0 30 9 * * 1-5"),
    ],
)
def test_every_field_compiles(fields, cron):
    assert Schedule(**fields).get_cron_string() == cron


def test_a_schedule_becomes_a_trigger_in_its_time_zone():
    from datetime import UTC, datetime

    trigger = Schedule(at_hours=[9], weekdays=["Mon"], timezone="Europe/London").to_trigger()
    first = trigger.next_fire(datetime(2026, 7, 1, tzinfo=UTC))
    assert first == datetime(2026, 7, 6, 8, 0, tzinfo=UTC)  # 09:00 BST


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"at_hours": [24]}, "at_hours 24"),
        ({"weekdays": ["Funday"]}, "weekdays 'Funday'"),
        ({"every_minute": 0}, "every_minute 0"),
    ],
)
def test_bad_fields_are_named(fields, says):
    with pytest.raises(InvalidSpec, match=says):
        Schedule(**fields).get_cron_string()


@pytest.mark.parametrize("field", ["run_after_job_uuid", "run_after_job_name", "run_after_job_condition"])
def test_run_after_is_refused_until_it_exists(field):
    with pytest.raises(InvalidSpec, match=f"{field} 'x': running after another job is not supported yet"):
        Schedule(**{field: "x"})


def test_definitions_take_a_schedule_or_a_trigger_with_its_time_zone():
    from datetime import UTC, datetime, timedelta

    from shiftwork.models import CreateJobDefinition, UpdateJobDefinition
    from shiftwork.schedules import IntervalTrigger, parse_trigger

    friendly = CreateJobDefinition(input_uri="a.ipynb", schedule=Schedule(at_hours=[9], timezone="Europe/London"))
    assert (friendly.schedule, friendly.timezone) == ("0 0 9 * * *", "Europe/London")
    given = CreateJobDefinition(
        input_uri="a.ipynb", schedule=Schedule(at_hours=[9], timezone="UTC"), timezone="Asia/Tokyo"
    )
    assert given.timezone == "Asia/Tokyo"  # an explicit timezone wins
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(timedelta(hours=2), start, timezone="America/New_York")
    changes = UpdateJobDefinition(schedule=trigger)
    assert changes.timezone == "America/New_York"
    assert parse_trigger(changes.schedule, "UTC").to_dict() == trigger.to_dict()
