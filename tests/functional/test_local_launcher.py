"""The LocalLauncher never loses a job: whatever ECS or the container does, every task's end is reported."""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from shiftwork import aws
from shiftwork.models import Status
from shiftwork.store import jobs
from tests.functional.conftest import wait_for


@pytest.fixture
def make_launcher(stack, tmp_path):
    from shiftwork.launchers.local import LocalLauncher

    made = []

    def make(**options):
        options.setdefault("network", stack.ensure_ecs)
        options.setdefault("keep_warm", False)
        launcher = LocalLauncher(tasks_dir=tmp_path / "tasks", **options)
        made.append(launcher)
        return launcher

    yield make
    for launcher in made:
        launcher.close()


def _ended(job_id):
    return (job := jobs.get(job_id)).status in (Status.COMPLETED, Status.FAILED, Status.STOPPED) and job


def test_a_stop_without_reason_of_a_job_without_timeout_stops_it_and_later_jobs_still_run(
    make_launcher, make_job, tmp_path
):
    launcher = make_launcher(max_parallel=1)
    marker = tmp_path / "sleeping"
    sleeper = make_job(Status.QUEUED, source=f"import time; open({str(marker)!r}, 'w').close(); time.sleep(60)")
    launched = launcher.launch(sleeper)
    wait_for(marker.exists, timeout=60)  # the notebook runs

    aws.client("ecs").stop_task(cluster="shiftwork", task=launched.task_arn)  # StopTask's reason is optional

    stopped = wait_for(lambda: _ended(sleeper.job_id), timeout=30)
    assert stopped.status == Status.FAILED  # not STOPPING: the runner itself records why it ended
    assert stopped.status_message == "stopped on request (SIGTERM)"
    after = make_job(Status.QUEUED, source="print('after the stop')")
    launcher.launch(after)
    assert wait_for(lambda: _ended(after.job_id), timeout=60).status == Status.COMPLETED


@contextmanager
def interleaved():
    """Threads switch at almost every bytecode: a race between them shows at once instead of once in a while."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(switch)


def _container(tmp_path):
    """A container that ends at once: it prints a line and leaves a mark that it ran."""
    container = tmp_path / "container"
    container.write_text('#!/bin/sh\necho "container of $SHIFTWORK_JOB_ID ran"\ntouch "$0.$SHIFTWORK_JOB_ID"\n')
    container.chmod(0o755)
    return str(container)


def _slow_ecs(stack, seconds):
    def network():
        time.sleep(seconds)  # RunTask answers only after the container has ended
        return stack.ensure_ecs()

    return network


def test_containers_quicker_than_ecs_are_all_reported_with_their_logs(make_launcher, make_job, stack, tmp_path):
    """A container can end before RunTask answers (a warm runner does): its end is still reported, its output kept,
    its scratch removed, and the launcher forgets it, however the launcher's threads interleave."""
    launcher = make_launcher(max_parallel=4, python=_container(tmp_path), network=_slow_ecs(stack, 0.2))
    queued = [make_job(Status.QUEUED) for _ in range(24)]
    with interleaved(), ThreadPoolExecutor(8) as pool:  # launches arrive at once, as from several dispatchers
        launched = dict(zip([j.job_id for j in queued], pool.map(launcher.launch, queued), strict=True))

    for job in queued:
        ended = wait_for(lambda job=job: _ended(job.job_id), timeout=30)
        assert ended.status == Status.FAILED  # the container never ran the notebook: the completion handler says so
        assert (
            ended.status_message == "runner stopped before reporting: Essential container in task exited (exit code 0)"
        )
    logs = aws.client("logs")
    for job_id, task in launched.items():
        events = logs.get_log_events(logGroupName="/shiftwork/runner", logStreamName=task.log_stream)["events"]
        assert [e["message"] for e in events] == [f"container of {job_id} ran"]
    assert os.listdir(tmp_path / "tasks") == []  # no task record left behind
    assert os.listdir(tmp_path / "scratch") == []  # nor any task's scratch folder
    wait_for(lambda: not launcher._ending)  # reported just after the job's status changed
    assert (launcher._tasks, launcher._running, list(launcher._pending)) == ({}, {}, [])  # finished tasks forgotten
    assert len(launcher._recent) == 24  # only their LaunchedTask, for a late duplicate (bounded)
    assert launcher.launch(queued[0]) == launched[queued[0].job_id]  # ... which starts nothing again
    time.sleep(0.5)
    assert launcher._running == {}


def test_closing_while_ecs_records_a_task_that_already_ended_reports_it(make_launcher, make_job, stack, tmp_path):
    """`run --wait` of a quick job closes its embedded stack as soon as the job is done, possibly while RunTask has
    not answered yet: the close waits for the task's record and reports it, and never fails."""
    container = _container(tmp_path)
    for _ in range(6):
        launcher = make_launcher(max_parallel=1, python=container, network=_slow_ecs(stack, 1.0))
        job = make_job(Status.QUEUED)
        launching = threading.Thread(target=launcher.launch, args=(job,))
        launching.start()
        wait_for(lambda job=job: Path(f"{container}.{job.job_id}").exists(), timeout=10, interval=0.01)
        with interleaved():
            launcher.close()
        launching.join()
        ended = wait_for(lambda job=job: _ended(job.job_id), timeout=30)
        # (exit code 0, or 143 if the shell was still exiting when the close sent SIGTERM)
        assert ended.status_message.startswith("runner stopped before reporting: the embedded stack shut down")


def test_a_warm_runner_whose_kernel_cannot_start_still_runs_its_job(make_launcher, make_job, monkeypatch):
    """The warm runner's kernel is only a head start: if it cannot start, the job it is handed runs cold."""
    monkeypatch.setenv("SHIFTWORK_WARM_KERNEL", "no-such-kernel")
    launcher = make_launcher(max_parallel=1, keep_warm=True)
    job = make_job(Status.QUEUED, source="print('ran anyway')")
    launched = launcher.launch(job)  # handed to the warm runner at once, before its kernel fails

    assert wait_for(lambda: _ended(job.job_id), timeout=90).status == Status.COMPLETED
    events = aws.client("logs").get_log_events(logGroupName="/shiftwork/runner", logStreamName=launched.log_stream)
    messages = [e["message"] for e in events["events"]]
    assert any(m.startswith("warm kernel did not start (NoSuchKernel") for m in messages), messages
