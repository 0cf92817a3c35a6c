"""Job definitions on the embedded stack: the store, EventBridge Scheduler (moto) and the dispatcher's policies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shiftwork import aws
from shiftwork.errors import InvalidSpec, NotFound
from shiftwork.models import CreateJobDefinition, ListJobsQuery, Status, UpdateJobDefinition
from shiftwork.store import definitions, jobs
from tests.functional.conftest import wait_for
from tests.helpers import write_notebook


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "report.ipynb", "region = 'eu'", "print('report for', region)")


@pytest.fixture
def create(service, notebook):
    def make(schedule="0 9 * * mon-fri", timezone="Europe/London", **fields):
        request = CreateJobDefinition(input_uri=str(notebook), schedule=schedule, timezone=timezone, **fields)
        return service.definitions.create(request)

    return make


def _schedules(definition_id):
    scheduler = aws.client("scheduler")
    found = scheduler.list_schedules(GroupName="shiftwork", NamePrefix=definition_id)["Schedules"]
    return sorted(
        (
            scheduler.get_schedule(Name=s["Name"], GroupName="shiftwork")
            for s in found
            if s["Name"].startswith(definition_id)
        ),
        key=lambda s: s["Name"],
    )


def _jobs_of(definition_id):
    return jobs.list_jobs(ListJobsQuery(job_definition_id=definition_id, max_items=1000)).jobs


def test_create_makes_version_1_and_its_eventbridge_schedules(create):
    definition = create(parameters={"region": "us"})
    assert definition.version == 1
    stored = definitions.get(definition.job_definition_id)
    assert stored.parameters == {"region": "us"}
    [schedule] = _schedules(definition.job_definition_id)
    assert schedule["ScheduleExpression"] == "cron(0 9 ? * 2-6 *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/London"
    assert schedule["State"] == "ENABLED"
    payload = json.loads(schedule["Target"]["Input"])
    assert payload["job_definition_id"] == definition.job_definition_id
    assert payload["scheduled_time"] == "<aws.scheduler.scheduled-time>"


def test_update_pause_resume_delete_change_the_schedules_in_the_same_call(service, create):
    definition = create()
    definition_id = definition.job_definition_id
    updated = service.definitions.update(definition_id, UpdateJobDefinition(schedule="15 10 13 * 5", timezone="UTC"))
    assert updated.version == 2
    assert [s["ScheduleExpression"] for s in _schedules(definition_id)] == [
        "cron(15 10 13 * ? *)",
        "cron(15 10 ? * 6 *)",
    ]  # day-of-month OR day-of-week: two schedules
    service.definitions.update(definition_id, UpdateJobDefinition(schedule="0 6 * * *"))
    assert [s["ScheduleExpression"] for s in _schedules(definition_id)] == ["cron(0 6 * * ? *)"]
    service.definitions.pause(definition_id)
    assert {s["State"] for s in _schedules(definition_id)} == {"DISABLED"}
    service.definitions.resume(definition_id)
    assert {s["State"] for s in _schedules(definition_id)} == {"ENABLED"}
    service.definitions.delete(definition_id)
    assert _schedules(definition_id) == []
    with pytest.raises(NotFound):
        service.definitions.get(definition_id)


def test_bad_definitions_create_nothing(service, notebook):
    before = len(definitions.list_definitions(1000).job_definitions)
    with pytest.raises(InvalidSpec, match="day of month field '32'"):
        service.definitions.create(CreateJobDefinition(input_uri=str(notebook), schedule="0 9 32 * *"))
    with pytest.raises(InvalidSpec, match="timezone"):
        service.definitions.create(
            CreateJobDefinition(input_uri=str(notebook), schedule="0 9 * * *", timezone="Europe/Atlantis")
        )
    assert len(definitions.list_definitions(1000).job_definitions) == before


def test_conflict_policy_on_an_explicit_id(service, notebook):
    def request(policy, schedule="0 9 * * *"):
        return CreateJobDefinition(input_uri=str(notebook), schedule=schedule, conflict_policy=policy)

    first = service.definitions.create(request("error"), "nightly-report")
    with pytest.raises(InvalidSpec, match="exists already"):
        service.definitions.create(request("error", "0 10 * * *"), "nightly-report")
    kept = service.definitions.create(request("keep", "0 10 * * *"), "nightly-report")
    assert (kept.schedule, kept.version) == (first.schedule, 1)
    replaced = service.definitions.create(request("replace", "0 10 * * *"), "nightly-report")
    assert (replaced.schedule, replaced.version) == ("0 10 * * *", 2)
    service.definitions.delete("nightly-report")


def _fire(definition, scheduled, now):
    from shiftwork.dispatch.fire import handle_schedule_fired
    from shiftwork.launchers import FargateLauncher

    payload = {
        "job_definition_id": definition.job_definition_id,
        "scheduled_time": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution_id": "x",
    }
    return handle_schedule_fired(payload, FargateLauncher(), now=now)


def _backdated(create, ago=timedelta(hours=2), **fields):
    """A definition active since `ago`, so the fires since then are owed to it."""
    definition = create(schedule="*/15 * * * *", timezone="UTC", **fields)
    since = int((datetime.now(UTC) - ago).timestamp() * 1000)
    return definitions.update(definition.job_definition_id, definition.version, active_since=since)


def _fires(definition, now, count):
    from shiftwork.schedules import trigger_from_dict

    trigger = trigger_from_dict(definition.trigger, definition.timezone)
    fires = []
    for fire in trigger.fire_times(datetime.fromtimestamp(definition.active_since / 1000, UTC)):
        if fire > now:
            break
        fires.append(fire)
    return fires[-count:]


def test_one_job_per_fire_however_often_it_arrives(create):
    definition = _backdated(create)
    now = datetime.now(UTC)
    [fire] = _fires(definition, now, 1)
    first = _fire(definition, fire, now)
    second = _fire(definition, fire, now)
    assert first.job_id == second.job_id
    assert first.status == Status.QUEUED
    assert first.job_definition_version == 1
    assert first.scheduled_time == fire.isoformat()
    assert len(_jobs_of(definition.job_definition_id)) == 1
    assert _fire(definition, fire + timedelta(minutes=1), now) is None  # not a fire of this schedule


def test_a_fire_later_than_misfire_grace_time_is_skipped(create):
    definition = _backdated(create, misfire_grace_time=60)
    now = datetime.now(UTC)
    [fire] = _fires(definition, now, 1)
    job = _fire(definition, fire, fire + timedelta(seconds=90))
    assert job.status == Status.SKIPPED
    assert job.status_message.startswith("missed start deadline: 90 s late")


@pytest.mark.parametrize(
    ("policy", "runs"),
    [("latest", [False, False, True]), ("earliest", [True, False, False]), ("all", [True, True, True])],
)
def test_coalesce_after_downtime(create, policy, runs):
    # active for the last 45 minutes, all of them down: exactly three fires of */15 piled up
    definition = _backdated(create, timedelta(minutes=45) - timedelta(seconds=1), coalesce=policy, max_running_jobs=10)
    now = datetime.now(UTC)
    piled_up = _fires(definition, now, 10)
    assert len(piled_up) == 3
    for fire in reversed(piled_up) if policy == "earliest" else piled_up:  # any delivery order
        _fire(definition, fire, now)
    by_time = {j.scheduled_time: j for j in _jobs_of(definition.job_definition_id)}
    ran = [by_time[f.isoformat()].status != Status.SKIPPED for f in piled_up]
    assert ran == runs
    skipped = [j for j in by_time.values() if j.status == Status.SKIPPED]
    assert all(j.status_message.startswith(f"coalesced ({policy})") for j in skipped)


def test_a_fire_while_max_running_jobs_run_is_skipped(create):
    definition = _backdated(create, max_running_jobs=1, coalesce="all")
    now = datetime.now(UTC)
    earlier, fire = _fires(definition, now, 2)
    assert _fire(definition, earlier, now).status == Status.QUEUED  # launched on moto: it holds the one slot
    job = _fire(definition, fire, now)
    assert job.status == Status.SKIPPED
    assert job.status_message == "max_running_jobs (1) reached: 1 queued or running"


def test_the_clock_fires_a_due_schedule_through_the_scheduler_api(stack, service, create, tmp_path):
    from shiftwork.local.clock import Clock

    run_at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    definition = create(schedule=json.dumps({"type": "date", "run_date": run_at.isoformat()}), timezone="UTC")
    assert [s["ScheduleExpression"] for s in _schedules(definition.job_definition_id)] == [
        f"at({run_at.strftime('%Y-%m-%dT%H:%M:%S')})"
    ]
    clock = Clock(tmp_path / "clock.json")
    clock.tick()
    wait_for(lambda: datetime.now(UTC) > run_at + timedelta(seconds=0.5))
    assert clock.tick() == 1
    assert clock.tick() == 0  # fired once
    job = wait_for(lambda: (found := _jobs_of(definition.job_definition_id)) and found[0])
    done = wait_for(lambda: (j := jobs.get(job.job_id)).is_terminal and j, timeout=90)
    assert done.status == Status.COMPLETED, done.status_message
    assert done.scheduled_time == run_at.isoformat()


def test_a_restart_after_downtime_owes_the_missed_fires(stack, service, create, tmp_path):
    from shiftwork.local.clock import Clock

    for other in definitions.list_definitions(1000).job_definitions:  # only this test's definition is owed
        service.definitions.delete(other.job_definition_id)
    definition = _backdated(create, coalesce="latest", max_running_jobs=10)
    state = tmp_path / "clock.json"
    down_since = datetime.now(UTC) - timedelta(hours=1)
    state.write_text(json.dumps({"last_tick": down_since.isoformat()}))
    owed = Clock(state).start_up()  # as `shiftwork up` does on start, after an hour down
    assert owed == 4  # */15 for an hour
    found = wait_for(lambda: len(jobs_ := _jobs_of(definition.job_definition_id)) == owed and jobs_)
    assert all(datetime.fromisoformat(j.scheduled_time) > down_since for j in found)
    ran = sorted((j.scheduled_time, j.status != Status.SKIPPED) for j in found)
    assert [r for _, r in ran] == [False, False, False, True]  # coalesce latest: only the last one runs
    assert [s["State"] for s in _schedules(definition.job_definition_id)] == ["ENABLED"]  # put back


def test_resume_from_a_past_time_owes_the_fires_since(service, create):
    definition = create(schedule="*/15 * * * *", timezone="UTC", coalesce="all", max_running_jobs=10)
    service.definitions.pause(definition.job_definition_id)
    since = datetime.now(UTC) - timedelta(minutes=45) + timedelta(seconds=1)
    service.definitions.resume(definition.job_definition_id, since.isoformat())
    found = wait_for(lambda: len(js := _jobs_of(definition.job_definition_id)) == 3 and js)
    assert all(datetime.fromisoformat(j.scheduled_time) >= since for j in found)
    other = create(schedule="*/15 * * * *", timezone="UTC")
    service.definitions.pause(other.job_definition_id)
    service.definitions.resume(other.job_definition_id, "now")  # what was missed is skipped
    assert _jobs_of(other.job_definition_id) == []


def test_the_sweep_rearms_a_one_shot_left_in_the_past(service, create, tmp_path):
    from shiftwork.local.clock import Clock
    from shiftwork.schedules.scheduler_api import schedule_name

    definition = create(schedule='{"type": "calendarinterval", "days": 1, "hour": 6}', timezone="UTC")
    name = schedule_name(definition.job_definition_id, 0)
    scheduler = aws.client("scheduler")
    stale = scheduler.get_schedule(Name=name, GroupName="shiftwork")
    stale.update(ScheduleExpression="at(2026-01-01T06:00:00)")  # as if the dispatcher never re-armed it
    scheduler.update_schedule(
        **{
            k: stale[k]
            for k in (
                "Name",
                "GroupName",
                "ScheduleExpression",
                "Target",
                "FlexibleTimeWindow",
                "State",
                "ScheduleExpressionTimezone",
            )
        }
    )
    assert Clock(tmp_path / "clock.json").sweep() >= 1
    expression = scheduler.get_schedule(Name=name, GroupName="shiftwork")["ScheduleExpression"]
    assert datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC) > datetime.now(UTC)


def test_a_failed_job_is_retried_and_its_last_failure_notified(service, tmp_path):
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="notifications-watch")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=service.settings.notifications_topic_arn, Protocol="sqs", Endpoint=queue_arn)
    failing = write_notebook(tmp_path / "flaky.ipynb", "x = 1", "raise RuntimeError('upstream not ready')")
    definition = service.definitions.create(
        CreateJobDefinition(
            input_uri=str(failing), schedule="0 0 1 1 *", max_retries=2, retry_backoff_seconds=0, notify=["failure"]
        )
    )
    first = service.definitions.run(definition.job_definition_id)

    def all_failed():
        found = _jobs_of(definition.job_definition_id)
        return len(found) == 3 and all(j.status == Status.FAILED for j in found) and found

    attempts = sorted(wait_for(all_failed, timeout=180), key=lambda j: j.attempt)
    assert [j.attempt for j in attempts] == [1, 2, 3]
    assert [j.retry_of for j in attempts] == [None, first.job_id, first.job_id]
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages")
    )
    bodies = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
    assert [(b["status"], b["attempt"]) for b in bodies] == [("FAILED", 3)]  # one, for the last attempt
    assert "upstream not ready" in bodies[0]["status_message"]
