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


@pytest.mark.parametrize(
    ("given", "condition"),
    [(None, "on success"), ("success", "on success"), ("On Failure", "on failure"), ("on_completion", "on completion")],
)
def test_run_after_carries_the_upstream_and_the_condition_instead_of_a_schedule(given, condition):
    from shiftwork.models import CreateJobDefinition

    schedule = Schedule(run_after_job_name="prices", run_after_job_condition=given)
    assert schedule.run_after() == ("prices", condition)
    request = CreateJobDefinition(input_uri="report.ipynb", schedule=schedule)
    assert (request.schedule, request.run_after, request.run_after_condition) == (None, "prices", condition)
    by_id = CreateJobDefinition(input_uri="report.ipynb", schedule=Schedule(run_after_job_uuid="d-1"))
    assert (by_id.run_after, by_id.run_after_condition) == ("d-1", "on success")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"run_after_job_name": "a", "run_after_job_uuid": "b"}, "run_after_job_name 'a': give it or"),
        ({"run_after_job_name": "a", "at_hours": [9]}, "at_hours '\\[9\\]': a schedule runs after a job or at times"),
        ({"run_after_job_uuid": "a", "run_after_job_condition": "sometimes"}, "run_after_job_condition 'sometimes'"),
        ({"run_after_job_condition": "on success"}, "needs run_after_job_name or _uuid"),
    ],
)
def test_bad_run_after_fields_are_named(fields, says):
    with pytest.raises(InvalidSpec, match=says):
        Schedule(**fields)
