"""Races against moto server: threads admit, end, replace and create at once; the counts must come out exact."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from shiftwork import aws
from shiftwork.dispatch import handle_task_state_change
from shiftwork.dispatch.fire import handle_schedule_fired
from shiftwork.dispatch.reconcile import Drift
from shiftwork.errors import LaunchError, LimitReached, NotFound
from shiftwork.launchers import FargateLauncher, LaunchedTask, Launcher
from shiftwork.models import CreateJob, CreateJobDefinition, ListJobsQuery, Status
from shiftwork.store import definitions, files, jobs, slots
from tests.functional.conftest import wait_for
from tests.helpers import load_event, write_notebook

THREADS = 8
HELD = (Status.CREATED, Status.QUEUED, Status.IN_PROGRESS, Status.STOPPING)


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "tick.ipynb", "x = 1", "print(x)")


@pytest.fixture
def every_minute(service, notebook):
    """A definition firing every minute, active for the last two hours (so 120 fires are owed), limit 2.

    Deleted afterwards, so that no clock another test ticks fires it.
    """
    made = []

    def make(max_running_jobs=2, **fields):
        definition = service.definitions.create(
            CreateJobDefinition(
                input_uri=str(notebook),
                schedule="* * * * *",
                timezone="UTC",
                coalesce="all",
                max_running_jobs=max_running_jobs,
                **fields,
            )
        )
        made.append(definition.job_definition_id)
        since = int((datetime.now(UTC) - timedelta(hours=2)).timestamp() * 1000)
        return definitions.update(definition.job_definition_id, definition.version, active_since=since)

    yield make
    for definition_id in made:
        with contextlib.suppress(NotFound):
            service.definitions.delete(definition_id)


def _fire_times(count, offset=0):
    latest = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    return [latest - timedelta(minutes=offset + i) for i in range(count)]


def _fire(definition, scheduled, launcher=None):
    payload = {
        "job_definition_id": definition.job_definition_id,
        "scheduled_time": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution_id": "race",
    }
    return handle_schedule_fired(payload, launcher or FargateLauncher(), now=datetime.now(UTC))


def _jobs_of(definition):
    return jobs.list_jobs(ListJobsQuery(job_definition_id=definition.job_definition_id, max_items=1000)).jobs


def _counts(definition):
    """(what the definition counts, jobs holding a slot, jobs queued or running)."""
    held = sum(job.status in HELD for job in _jobs_of(definition))
    return slots.taken(definition.job_definition_id), slots.holders(definition.job_definition_id), held


def _at_once(function, items):
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(function, items))


def _stopped_detail(job, name="ecs_task_state_change_stopped.json"):
    return load_event(name, job_id=job.job_id, task_arn=job.task_arn or "arn:aws:ecs:us-east-1:1:task/x")["detail"]


def _run(job_id, status=Status.COMPLETED):
    """What the runner writes: QUEUED -> IN_PROGRESS, then its end (None: it died before reporting)."""
    jobs.update(job_id, [Status.QUEUED], status=Status.IN_PROGRESS, start_time=jobs.now_ms())
    if status is not None:
        jobs.update(job_id, [Status.IN_PROGRESS], status=status, end_time=jobs.now_ms())


class FailingLauncher(Launcher):
    def launch(self, job):
        raise LaunchError(job.job_id, "no capacity")

    def stop(self, task_arn, reason):
        pass


class InstantLauncher(Launcher):
    """A runner that finishes before ECS answers the launch: the task is recorded on a COMPLETED job."""

    def launch(self, job):
        _run(job.job_id)
        return LaunchedTask(f"arn:aws:ecs:us-east-1:123456789012:task/shiftwork/{job.job_id}", "runner/x")

    def stop(self, task_arn, reason):
        pass


def test_the_limit_holds_under_concurrent_duplicated_fires_and_every_ending_gives_one_slot_back(service, every_minute):
    definition = every_minute(max_running_jobs=2)
    fires = _fire_times(50)
    rng = random.Random(8)
    deliveries = [fire for fire in fires for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    _at_once(lambda fire: _fire(definition, fire), deliveries)

    found = _jobs_of(definition)
    by_status = Counter(job.status for job in found)
    assert len(found) == 50
    assert by_status == {Status.QUEUED: 2, Status.SKIPPED: 48}
    skipped = [job for job in found if job.status == Status.SKIPPED]
    assert {job.status_message for job in skipped} == {"max_running_jobs (2) reached: 2 queued or running"}
    assert _counts(definition) == (2, 2, 2)
    with pytest.raises(LimitReached, match=r"max_running_jobs \(2\) reached"):  # run now: refused, not queued
        service.definitions.run(definition.job_definition_id)
    assert len(_jobs_of(definition)) == 50

    completed, lost = (jobs.get(job.job_id) for job in found if job.status == Status.QUEUED)
    _run(completed.job_id, Status.COMPLETED)
    _run(lost.job_id, None)  # its runner died before reporting
    late = [_stopped_detail(completed, "ecs_task_state_change_completed.json")] * 2 + [_stopped_detail(lost)] * 3
    _at_once(handle_task_state_change, rng.sample(late, len(late)))  # duplicates, late, out of order, at once
    assert jobs.get(completed.job_id).status == Status.COMPLETED
    assert jobs.get(lost.job_id).status == Status.FAILED
    assert jobs.get(lost.job_id).status_message.startswith("runner stopped before reporting")
    assert _counts(definition) == (0, 0, 0)

    again = _at_once(lambda fire: _fire(definition, fire), _fire_times(3, offset=50) * 2)
    admitted = {job.job_id: job for job in again if job.status == Status.QUEUED}
    assert len(admitted) == 2
    assert _counts(definition) == (2, 2, 2)
    stopped, failed = (jobs.get(job_id) for job_id in admitted)  # with their tasks recorded
    service.stop_job(stopped.job_id)  # STOPPING: its task is asked to stop, the slot is still held
    assert _counts(definition) == (2, 2, 2)
    _run(failed.job_id, Status.FAILED)
    events = [_stopped_detail(stopped)] * 3 + [_stopped_detail(failed)] * 2
    _at_once(handle_task_state_change, rng.sample(events, len(events)))
    assert jobs.get(stopped.job_id).status == Status.STOPPED
    assert jobs.get(failed.job_id).status == Status.FAILED
    assert _counts(definition) == (0, 0, 0)


def test_a_launch_failure_and_a_runner_faster_than_its_launch_give_the_slot_back_once(every_minute):
    definition = every_minute(max_running_jobs=1)
    first, second = _fire_times(2)
    failed = _fire(definition, first, FailingLauncher())
    assert (failed.status, failed.status_message) == (
        Status.FAILED,
        f"could not launch job {failed.job_id}: no capacity",
    )
    assert _counts(definition) == (0, 0, 0)
    finished = _fire(definition, second, InstantLauncher())
    assert finished.status == Status.COMPLETED  # recording the task did not write the status back
    assert finished.task_arn.endswith(finished.job_id)
    assert _counts(definition) == (0, 0, 0)


def test_a_job_not_yet_started_stops_outright_and_a_deleted_definitions_job_still_ends(service, every_minute):
    definition = every_minute(max_running_jobs=2)
    job = slots.admit(_draft(definition))  # as a run-now does, before its dispatch
    assert _counts(definition) == (1, 1, 1)
    assert service.stop_job(job.job_id).status == Status.STOPPED
    assert _counts(definition) == (0, 0, 0)
    orphan = _fire(definition, _fire_times(1)[0])
    service.definitions.delete(definition.job_definition_id)
    _run(orphan.job_id, Status.COMPLETED)
    assert jobs.get(orphan.job_id).status == Status.COMPLETED
    assert slots.holders(definition.job_definition_id) == 0


def test_a_restarted_embedded_stack_settles_what_the_last_one_left_giving_each_slot_back_once(service, every_minute):
    from shiftwork.local.stack import LOST_MESSAGE, settle_lost

    definition = every_minute(max_running_jobs=3)
    running, stopping, queued = _at_once(lambda fire: _fire(definition, fire), _fire_times(3))
    _run(running.job_id, None)
    service.stop_job(stopping.job_id)
    left = [jobs.get(job.job_id) for job in (running, stopping, queued)]
    _at_once(settle_lost, [left] * 3)  # as if recovery ran again, and again, at once
    assert (jobs.get(running.job_id).status, jobs.get(running.job_id).status_message) == (Status.FAILED, LOST_MESSAGE)
    assert jobs.get(stopping.job_id).status == Status.STOPPED
    assert jobs.get(queued.job_id).task_arn is None  # to be launched again: it keeps its slot
    assert _counts(definition) == (1, 1, 1)


def _draft(definition):
    import uuid

    from shiftwork.dispatch.fire import new_job

    return new_job(definition, str(uuid.uuid4()), None)


def test_watched_prefix_arrivals_and_retries_take_slots_too(service, every_minute):
    from shiftwork.dispatch.aftermath import after_job_ended
    from shiftwork.dispatch.arrival import on_object_created

    definition = every_minute(max_running_jobs=1, watch_prefix="races/prices/", max_retries=1)
    bucket = service.settings.bucket
    keys = [f"races/prices/{i}.csv" for i in range(6)]
    started = _at_once(lambda key: on_object_created(bucket, key, "v1", FargateLauncher()), keys * 2)
    found = Counter(job.status for jobs_started in started for job in jobs_started)
    assert found == {Status.QUEUED: 2, Status.SKIPPED: 10}  # each upload twice: one job each, one admitted
    assert len(_jobs_of(definition)) == 6
    assert _counts(definition) == (1, 1, 1)
    [running] = [job for job in _jobs_of(definition) if job.status == Status.QUEUED]
    _run(running.job_id, Status.FAILED)
    _fire(definition, _fire_times(1)[0])  # takes the slot the failure gave back, before its retry
    retry = after_job_ended(jobs.get(running.job_id))
    assert (retry.status, retry.attempt) == (Status.SKIPPED, 2)
    assert retry.status_message == "max_running_jobs (1) reached: 1 queued or running"
    assert _counts(definition) == (1, 1, 1)


def test_reconciliation_repairs_a_drifted_count(every_minute):
    from shiftwork.dispatch.reconcile import reconcile_active_counts
    from shiftwork.local.lambdas import invoke

    definition = every_minute(max_running_jobs=3)
    _at_once(lambda fire: _fire(definition, fire), _fire_times(2))
    assert _counts(definition) == (2, 2, 2)
    definition_id = definition.job_definition_id

    def drifts(found):
        return [drift for drift in found if drift.job_definition_id == definition_id]

    assert slots.set_taken(definition_id, 2, 7)  # drift: a count no transaction made
    assert drifts(reconcile_active_counts(settle_seconds=0)) == [Drift(definition_id, 7, 2, repaired=True)]
    assert _counts(definition) == (2, 2, 2)
    assert drifts(reconcile_active_counts(settle_seconds=0)) == []
    assert slots.set_taken(definition_id, 2, 0)  # a count too low would admit over the limit
    result = invoke("complete", load_event("eventbridge_scheduled_reconcile.json"))  # what the 15-minute rule sends
    assert {"job_definition_id": definition_id, "counted": 0, "holding": 2, "repaired": True} in result["drifts"]
    assert _counts(definition) == (2, 2, 2)
    assert _fire(definition, _fire_times(1, offset=2)[0]).status == Status.QUEUED
    assert _fire(definition, _fire_times(1, offset=3)[0]).status == Status.SKIPPED


def test_the_embedded_stacks_clock_reconciles_periodically(every_minute, tmp_path, monkeypatch):
    from shiftwork.local import clock as clock_module

    definition = every_minute(max_running_jobs=3)
    _fire(definition, _fire_times(1)[0])
    assert slots.set_taken(definition.job_definition_id, 1, 5)
    monkeypatch.setattr(clock_module, "RECONCILE_EVERY_TICKS", 2)
    monkeypatch.setattr(clock_module, "SWEEP_EVERY_TICKS", 10**9)
    clock = clock_module.Clock(tmp_path / "clock.json", interval=0.05)
    clock.tick = lambda: 0  # only its periodic chores: no schedule of another test fires
    clock.start()
    try:
        wait_for(lambda: slots.taken(definition.job_definition_id) == 1, timeout=30)
    finally:
        clock.stop()
        clock.join(timeout=30)
    assert _counts(definition) == (1, 1, 1)


def test_concurrent_replacements_each_get_their_own_version(service, tmp_path):
    requests = []
    for hour in range(THREADS):
        notebook = write_notebook(tmp_path / f"v{hour}.ipynb", f"hour = {hour}", "print(hour)")
        requests.append(
            CreateJobDefinition(input_uri=str(notebook), schedule=f"0 {hour} * * *", conflict_policy="replace")
        )
    made = _at_once(lambda request: service.definitions.create(request, "race-replace"), requests)
    assert sorted(d.version for d in made) == list(range(1, THREADS + 1))
    latest = definitions.get("race-replace")
    assert latest.version == THREADS
    [winner] = [d for d in made if d.version == THREADS]
    assert latest.schedule == winner.schedule
    # the schedules follow the last version, whichever replacement wrote them last
    scheduler = aws.client("scheduler")
    [name] = [
        s["Name"] for s in scheduler.list_schedules(GroupName="shiftwork", NamePrefix="race-replace")["Schedules"]
    ]
    hour = winner.schedule.split()[1]
    assert scheduler.get_schedule(Name=name, GroupName="shiftwork")["ScheduleExpression"] == f"cron(0 {hour} * * ? *)"
    # each version has its own snapshot, and no loser left one behind
    keys = list(files.iter_keys("definitions/race-replace/"))
    snapshots = {key.rsplit("/", 1)[0] + "/" for key in keys if "/versions/" not in key}
    assert snapshots == {d.input_prefix for d in made}
    # and each version's record is kept, once (store/versions.py)
    assert len([key for key in keys if "/versions/" in key]) == THREADS
    service.definitions.delete("race-replace")


def test_concurrent_creates_with_one_idempotency_token_make_one_job(service, tmp_path):
    notebooks = [write_notebook(tmp_path / f"n{i}.ipynb", f"n = {i}", "print('run', n)") for i in range(THREADS)]
    made = _at_once(
        lambda notebook: service.create_job(CreateJob(input_uri=str(notebook), idempotency_token="race-token")),
        notebooks,
    )
    assert len({job.job_id for job in made}) == 1
    job_id = made[0].job_id
    stored = jobs.get(job_id)
    # the first request's input, alone: the others' uploads went under their own prefixes, and were removed
    assert list(files.iter_keys(f"jobs/{job_id}/input/")) == [stored.input_prefix + stored.input_filename]
    finished = wait_for(lambda: (job := jobs.get(job_id)).is_terminal and job, timeout=120)
    assert finished.status == Status.COMPLETED


def test_a_status_write_always_names_the_statuses_it_moves_from(make_job):
    job = make_job(Status.IN_PROGRESS)
    with pytest.raises(ValueError, match="must name the statuses it moves from"):
        jobs.update(job.job_id, list(Status), status=Status.FAILED)
    assert jobs.get(job.job_id).status == Status.IN_PROGRESS


def test_a_fire_whose_dispatcher_died_before_launching_is_launched_by_its_redelivery(every_minute):
    from shiftwork.dispatch.fire import fire_job_id, new_job

    definition = every_minute(max_running_jobs=1)
    (scheduled,) = _fire_times(1)
    job_id = fire_job_id(definition.job_definition_id, scheduled)
    slots.admit(new_job(definition, job_id, scheduled, status=Status.QUEUED))  # admitted; then the dispatcher died
    assert jobs.get(job_id).task_arn is None
    redelivered = _at_once(lambda fire: _fire(definition, fire), [scheduled] * 3)
    assert {job.job_id for job in redelivered} == {job_id}
    assert jobs.get(job_id).task_arn is not None  # launched, and the slot is still the one it held
    assert _counts(definition) == (1, 1, 1)
