"""Advancing a run is exactly once: task ends delivered many times, at once, late and after crashes.

The store and the advancing code run against moto server; a recording launcher stands in for ECS (it starts
nothing and counts every launch), and the tests write what a runner would and deliver the container's stop event
the way the completion Lambda gets it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shiftwork import aws
from shiftwork.api.events import on_task_stopped
from shiftwork.api.service import Service
from shiftwork.config import get_settings
from shiftwork.dispatch import dispatch_job
from shiftwork.errors import Conflict
from shiftwork.launchers import FargateLauncher
from shiftwork.models import Status
from shiftwork.models.workflow import TaskSpec, TaskStatus, WorkflowSpec
from shiftwork.store import jobs, slots, tasks
from shiftwork.workflows.advance import launcher_for, start_run
from tests.workflows.advancing import (
    DIES,
    OOM,
    THREADS,
    at_once,
    deliver,
    diamond,
    fan_in,
    fan_out,
    finish,
    hold_slot,
    launchable,
    make_run,
    run_task,
    run_task_end,
    start,
    statuses_of,
    stop_detail,
    task_spec,
    workflow,
)


@pytest.mark.parametrize(("make_spec", "launched"), [(diamond, 4), (fan_out, 22), (fan_in, 11)])
def test_every_task_once_and_the_run_ends_once(driver, recorder, definition, make_spec, launched):
    sentinel = hold_slot(definition)
    held = slots.taken(definition)
    run = make_run(make_spec(), definition)
    assert slots.taken(definition) == held + 1

    starts = [run] * 3
    with ThreadPoolExecutor(3) as pool:  # the start, delivered three times at once
        list(pool.map(lambda job: start_run(job, launcher_for()), starts))
    driver.settle()
    ended = jobs.get(run.job_id)
    driver.redeliver_all()

    after = jobs.get(run.job_id)
    assert after.status == Status.COMPLETED, after.status_message
    assert after.end_time == ended.end_time and after.update_time == ended.update_time  # one terminal write
    assert after.tasks_open == 0 and after.tasks_failed == 0
    assert slots.taken(definition) == held and slots.holders(definition) == held  # its slot back, once
    counts = recorder.counts(run.job_id)
    assert len(counts) == launched and set(counts) == {(task_id, 1) for task_id in launchable(run.job_id)}
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    assert set(statuses_of(run.job_id).values()) == {TaskStatus.COMPLETED}
    assert all(task.settled for task in tasks.list_for(run.job_id))
    jobs.update(sentinel.job_id, [Status.CREATED], status=Status.STOPPED)


def test_a_handler_that_dies_launching_is_delivered_again(recorder, definition):
    held = slots.taken(definition)
    run = make_run(diamond(), definition)
    start(run)
    recorder.crash_once.add("b")
    run_task(run.job_id, "a", "A")
    detail = stop_detail(recorder, (run.job_id, "a", 1))
    with pytest.raises(RuntimeError, match="died launching b"):
        on_task_stopped(detail)  # the Lambda fails: its event is delivered again
    assert tasks.get(run.job_id, "b").status == TaskStatus.QUEUED and ("b", 1) not in recorder.counts(run.job_id)

    at_once(deliver, [detail] * 4)
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1, ("b", 1): 1, ("c", 1): 1})
    for task_id in ("b", "c", "d"):
        finish(recorder, run, task_id)
    assert jobs.get(run.job_id).status == Status.COMPLETED
    assert set(recorder.counts(run.job_id).values()) == {1} and len(recorder.counts(run.job_id)) == 4
    assert slots.taken(definition) == held


def test_a_handler_killed_after_settling_claiming_or_taking_the_launch(recorder):
    run = make_run(diamond())
    start(run)
    run_task(run.job_id, "a", "A")
    assert tasks.settle(tasks.get(run.job_id, "a"))  # ... and the handler died: b and c not claimed
    at_once(deliver, [stop_detail(recorder, (run.job_id, "a", 1))] * 4)
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1, ("b", 1): 1, ("c", 1): 1})

    finish(recorder, run, "b")
    run_task(run.job_id, "c", "C")
    assert tasks.settle(tasks.get(run.job_id, "c"))
    assert tasks.claim(run.job_id, "d")
    assert tasks.claim_launch(run.job_id, "d", 1)  # ... and the handler was killed before RunTask
    c_stopped = stop_detail(recorder, (run.job_id, "c", 1))
    at_once(deliver, [c_stopped] * 4)
    assert ("d", 1) not in recorder.counts(run.job_id)  # its launch is still claimed: nobody launches twice

    stale = tasks.now_ms() - tasks.LAUNCH_LEASE_MS - 1  # as it will be a lease later
    tasks.update(run.job_id, "d", [TaskStatus.QUEUED], provision_time=stale)
    at_once(deliver, [c_stopped] * 4)
    assert recorder.counts(run.job_id)[("d", 1)] == 1
    finish(recorder, run, "d")
    assert jobs.get(run.job_id).status == Status.COMPLETED
    assert set(recorder.counts(run.job_id).values()) == {1} and len(recorder.counts(run.job_id)) == 4


def failing_branch() -> WorkflowSpec:
    """a feeds b (which fails every attempt) -> d -> e, and c -> f, which do not depend on b."""
    return workflow(
        "failing",
        [
            task_spec("a"),
            task_spec("b", "a", retries=2),
            task_spec("c", "a"),
            task_spec("d", "b"),
            task_spec("e", "d"),
            task_spec("f", "c"),
        ],
    )


def test_a_failed_task_fails_what_depends_on_it_and_the_run_once(driver, recorder, definition):
    held = slots.taken(definition)
    driver.outcome = lambda task_id, attempt: ValueError(f"boom {attempt}") if task_id == "b" else task_id
    run = make_run(failing_branch(), definition)
    start(run)
    driver.settle()
    ended = jobs.get(run.job_id)
    driver.redeliver_all()

    assert recorder.counts(run.job_id) == Counter({(t, 1): 1 for t in "abcf"} | {("b", 2): 1, ("b", 3): 1})
    statuses = statuses_of(run.job_id)
    assert statuses == {
        "a": TaskStatus.COMPLETED,
        "b": TaskStatus.FAILED,
        "c": TaskStatus.COMPLETED,
        "d": TaskStatus.UPSTREAM_FAILED,
        "e": TaskStatus.UPSTREAM_FAILED,
        "f": TaskStatus.COMPLETED,
    }
    b = tasks.get(run.job_id, "b")
    assert b.attempt == 3 and b.status_message == "ValueError: boom 3"
    after = jobs.get(run.job_id)
    assert after.status == Status.FAILED and after.end_time == ended.end_time
    assert "failed: b (ValueError: boom 3)" in (after.status_message or "")
    assert after.tasks_open == 0 and after.tasks_failed == 3
    assert slots.taken(definition) == held


def test_a_container_that_dies_without_reporting(recorder):
    run = make_run(workflow("dies", [task_spec("a", retries=1), task_spec("b", "a")]))
    start(run)
    finish(recorder, run, "a", DIES, times=2, reason=OOM)  # IN_PROGRESS when its container's stop comes
    a = tasks.get(run.job_id, "a")
    assert (a.status, a.attempt) == (TaskStatus.QUEUED, 2)
    assert a.status_message == f"retry 1 of 1: runner stopped before reporting: {OOM} (exit code 137)"
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1, ("a", 2): 1})

    tasks.update(run.job_id, "a", [TaskStatus.QUEUED], status=TaskStatus.IN_PROGRESS)  # attempt 2 runs
    first = stop_detail(recorder, (run.job_id, "a", 1), 137, OOM)
    at_once(deliver, [first] * 3)  # late: attempt 1's stop again
    a = tasks.get(run.job_id, "a")
    assert (a.status, a.attempt) == (TaskStatus.IN_PROGRESS, 2)
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1, ("a", 2): 1})

    run_task_end(run.job_id, "a", "A")
    at_once(deliver, [stop_detail(recorder, (run.job_id, "a", 2))] * 2)
    finish(recorder, run, "b", DIES, times=2, reason=OOM)  # no retries left: FAILED, saying why
    b = tasks.get(run.job_id, "b")
    assert (
        b.status == TaskStatus.FAILED and b.status_message == f"runner stopped before reporting: {OOM} (exit code 137)"
    )
    assert jobs.get(run.job_id).status == Status.FAILED
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1, ("a", 2): 1, ("b", 1): 1})


def test_a_death_delivered_from_8_threads_retries_once(recorder):
    """Every delivery reads attempt 1 running; one retries it, and attempt 2 starts at once: it is left alone."""
    recorder.on_launch = lambda job, task, _arn: (
        task.attempt > 1 and tasks.update(job.job_id, task.task_id, [TaskStatus.QUEUED], status=TaskStatus.IN_PROGRESS)
    )
    run = make_run(workflow("retried", [task_spec("a", retries=3)]))
    start(run)
    run_task(run.job_id, "a", DIES)
    at_once(deliver, [stop_detail(recorder, (run.job_id, "a", 1), 137, OOM)] * THREADS)
    a = tasks.get(run.job_id, "a")
    assert (a.status, a.attempt) == (TaskStatus.IN_PROGRESS, 2), a.status_message
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1, ("a", 2): 1})


def test_the_dispatchers_start_delivered_five_times_launches_each_root_once(recorder):
    run = make_run(fan_in(), status=Status.CREATED)
    at_once(lambda _: dispatch_job(run.job_id, recorder), range(5))
    assert recorder.counts(run.job_id) == Counter({(f"r{i}", 1): 1 for i in range(10)})
    after = jobs.get(run.job_id)
    assert after.status == Status.QUEUED and after.tasks_open == 11 and after.tasks_failed == 0
    assert tasks.get(run.job_id, "join").status == TaskStatus.PENDING


def test_stopping_a_run(stack, recorder):
    recorder.ecs = FargateLauncher(get_settings())  # real ECS tasks (moto runs none), to see them asked to stop
    spec = workflow(
        "stopped", [task_spec("a"), task_spec("x"), task_spec("b", "a"), task_spec("y", "x"), task_spec("z", "b", "y")]
    )
    run = make_run(spec)
    start(run)
    for task_id in ("a", "x"):
        tasks.update(run.job_id, task_id, [TaskStatus.QUEUED], status=TaskStatus.IN_PROGRESS)

    stopping = Service().stop_job(run.job_id)
    assert stopping.status == Status.STOPPING
    statuses = statuses_of(run.job_id)
    assert [statuses[t] for t in "byz"] == [TaskStatus.STOPPED] * 3
    arns = [tasks.get(run.job_id, t).task_arn for t in "ax"]
    ecs = aws.client("ecs", get_settings())
    described = ecs.describe_tasks(cluster=get_settings().cluster, tasks=arns)["tasks"]
    assert sorted(t["desiredStatus"] for t in described) == ["STOPPED", "STOPPED"]

    run_task_end(run.job_id, "a", "A")  # a completes before its stop took effect
    at_once(deliver, [stop_detail(recorder, (run.job_id, "a", 1))] * 3)
    assert jobs.get(run.job_id).status == Status.STOPPING  # x still runs
    tasks.update(run.job_id, "x", [TaskStatus.IN_PROGRESS], status=TaskStatus.STOPPED, status_message="stopped by user")
    at_once(deliver, [stop_detail(recorder, (run.job_id, "x", 1), 143)] * 3)

    after = jobs.get(run.job_id)
    assert (after.status, after.status_message, after.tasks_open) == (Status.STOPPED, "stopped by user", 0)
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1, ("x", 1): 1})  # nothing launched after the stop
    assert statuses_of(run.job_id) == {t: TaskStatus.COMPLETED if t == "a" else TaskStatus.STOPPED for t in "abxyz"}


def test_a_run_stopped_before_its_start_ends_and_launches_nothing(recorder):
    """The dispatcher queued the run and died before starting it; the run is stopped; the start comes again."""
    run = make_run(diamond())  # QUEUED: no task made, none opened
    stopped = Service().stop_job(run.job_id)
    assert (stopped.status, stopped.status_message) == (Status.STOPPED, "stopped by user")
    at_once(lambda _: dispatch_job(run.job_id, recorder), range(3))
    assert jobs.get(run.job_id).status == Status.STOPPED
    assert recorder.counts(run.job_id) == Counter()


def test_a_write_decided_on_attempt_1_never_lands_on_attempt_2(recorder):
    """What a slow delivery of attempt 1's death would write after another delivery retried the task."""
    run = make_run(workflow("retried", [task_spec("a", retries=1)]))
    start(run)
    run_task(run.job_id, "a", DIES)
    read = tasks.get(run.job_id, "a")  # the slow delivery read attempt 1 running...
    deliver(stop_detail(recorder, (run.job_id, "a", 1), 137, OOM))  # ...another failed and retried it
    tasks.update(run.job_id, "a", [TaskStatus.QUEUED], status=TaskStatus.IN_PROGRESS)  # attempt 2 runs
    with pytest.raises(Conflict):
        tasks.update(run.job_id, "a", [read.status], status=TaskStatus.FAILED, at_attempt=read.attempt)
    a = tasks.get(run.job_id, "a")
    assert (a.status, a.attempt) == (TaskStatus.IN_PROGRESS, 2)


def test_a_mapped_task_over_nothing_or_with_a_failed_instance(driver, recorder):
    empty = make_run(fan_out())
    driver.outcome = lambda task_id, attempt: [] if task_id == "src" else task_id
    start(empty)
    driver.settle()
    assert jobs.get(empty.job_id).status == Status.COMPLETED
    assert recorder.counts(empty.job_id) == Counter({("src", 1): 1, ("total", 1): 1})
    assert tasks.get(empty.job_id, "sq").map_count == 0

    failing = make_run(fan_out())
    driver.outcome = lambda task_id, attempt: (
        [1, 2, 3, 4, 5] if task_id == "src" else ValueError("odd") if task_id == "sq[3]" else task_id
    )
    start(failing)
    driver.settle()
    statuses = statuses_of(failing.job_id)
    assert statuses.pop("sq[3]") == statuses.pop("sq") == TaskStatus.FAILED
    assert statuses.pop("total") == TaskStatus.UPSTREAM_FAILED
    assert set(statuses.values()) == {TaskStatus.COMPLETED} and len(statuses) == 5  # src and 4 instances
    assert tasks.get(failing.job_id, "sq").status_message == "1 of 5 instances did not complete"
    after = jobs.get(failing.job_id)
    assert after.status == Status.FAILED and after.tasks_failed == 3 and after.tasks_open == 0
    assert recorder.counts(failing.job_id) == Counter({(t, 1): 1 for t in ["src", *(f"sq[{i}]" for i in range(5))]})


def test_a_retry_queued_as_the_run_stops_is_stopped_not_left_queued(stack, recorder):
    recorder.ecs = FargateLauncher(get_settings())
    run = make_run(workflow("retry-stop", [task_spec("a", retries=1)]))
    start(run)
    tasks.update(run.job_id, "a", [TaskStatus.QUEUED], status=TaskStatus.IN_PROGRESS)
    Service().stop_job(run.job_id)
    tasks.update(run.job_id, "a", [TaskStatus.IN_PROGRESS], status=TaskStatus.FAILED, status_message="boom")
    # what a delivery's _retry writes when it found the run live just before the stop
    tasks.update(
        run.job_id, "a", [TaskStatus.FAILED], status=TaskStatus.QUEUED, attempt=2, task_arn=None, provision_time=None
    )
    at_once(deliver, [stop_detail(recorder, (run.job_id, "a", 1), 1)] * 3)
    assert tasks.get(run.job_id, "a").status == TaskStatus.STOPPED
    after = jobs.get(run.job_id)
    assert (after.status, after.tasks_open) == (Status.STOPPED, 0)
    assert recorder.counts(run.job_id) == Counter({("a", 1): 1})


def test_a_stop_racing_task_ends_launches_nothing_after_it(stack, recorder):
    recorder.ecs = FargateLauncher(get_settings())
    run = make_run(fan_in())
    start(run)
    roots = [f"r{i}" for i in range(10)]
    for task_id in roots:
        tasks.update(run.job_id, task_id, [TaskStatus.QUEUED], status=TaskStatus.IN_PROGRESS)

    def complete(task_id: str) -> None:
        run_task_end(run.job_id, task_id, task_id)
        for _ in range(2):
            deliver(stop_detail(recorder, (run.job_id, task_id, 1)))

    work: list[Callable[[], Any]] = [lambda t=t: complete(t) for t in roots[:-1]]
    work.insert(random.randrange(len(work)), lambda: Service().stop_job(run.job_id))
    at_once(lambda step: step(), work)
    assert jobs.get(run.job_id).status == Status.STOPPING  # r9 still runs: asked to stop, it stops
    tasks.update(run.job_id, "r9", [TaskStatus.IN_PROGRESS], status=TaskStatus.STOPPED, status_message="stopped")
    at_once(deliver, [stop_detail(recorder, (run.job_id, "r9", 1), 143)] * 2)

    after = jobs.get(run.job_id)
    assert (after.status, after.tasks_open) == (Status.STOPPED, 0)
    assert recorder.counts(run.job_id) == Counter({(t, 1): 1 for t in roots})  # join never launched
    assert tasks.get(run.job_id, "join").status == TaskStatus.STOPPED


DYING = """
import os

def flaky():
    if os.environ["SHIFTWORK_TASK_ATTEMPT"] == "1":
        os._exit(137)  # as the OOM killer would: no report
    return [1, 2]
"""


def test_a_real_runner_killed_on_its_first_attempt_is_retried(stack, tmp_path):
    """The embedded stack's launcher and runner processes: attempt 1 dies unreported, attempt 2 completes."""
    from shiftwork.models.workflow import RunWorkflow

    (tmp_path / "pipe.py").write_text(DYING)
    spec = WorkflowSpec(
        name="dying",
        function="pipe:flow",
        module_file="pipe.py",
        tasks=[TaskSpec(name="flaky", function="pipe:flaky", retries=1)],
    )
    service = Service()
    run = service.workflows.run(RunWorkflow(spec=spec), {"pipe.py": tmp_path / "pipe.py"})
    done = service.wait_job(run.job_id, timeout=60)
    assert done.status == Status.COMPLETED, done.status_message
    flaky = service.workflows.task(run.job_id, "flaky")
    assert flaky.attempt == 2 and flaky.status == TaskStatus.COMPLETED
    assert service.workflows.result_value(run.job_id, "flaky") == [1, 2]


def test_a_container_of_an_earlier_attempt_started_late_runs_nothing(recorder):
    """ECS started attempt 1 although its launch failed, and attempt 2 is queued: attempt 1's runner refuses."""
    from shiftwork.runner.task import TaskRunner

    run = make_run(workflow("late", [task_spec("a", retries=1)]))
    start(run)
    tasks.update(run.job_id, "a", [TaskStatus.QUEUED], status=TaskStatus.FAILED, status_message="launch failed")
    tasks.update(run.job_id, "a", [TaskStatus.FAILED], status=TaskStatus.QUEUED, attempt=2, task_arn=None)
    assert TaskRunner(run.job_id, "a", attempt=1).run() == 1
    a = tasks.get(run.job_id, "a")
    assert (a.status, a.attempt, a.start_time) == (TaskStatus.QUEUED, 2, None)
