"""One contract for every Launcher: a task in ECS with the job id in its environment, and stop through ECS.

(One task per job however often a dispatch arrives is the dispatcher's guarantee: see test_jobs.py.)"""

from __future__ import annotations

import pytest

from shiftwork import aws
from shiftwork.models import Status
from tests.functional.conftest import wait_for


@pytest.fixture(params=["fargate", "local"])
def launcher(request, stack, tmp_path):
    from shiftwork.launchers import FargateLauncher
    from shiftwork.launchers.local import LocalLauncher

    if request.param == "fargate":
        yield FargateLauncher()
        return
    local = LocalLauncher(tasks_dir=tmp_path / "tasks", max_parallel=1, keep_warm=False, network=stack.ensure_ecs)
    yield local
    local.close()


def _task(task_arn):
    return aws.client("ecs").describe_tasks(cluster="shiftwork", tasks=[task_arn])["tasks"][0]


def test_a_job_gets_a_task_carrying_its_id(launcher, make_job):
    job = make_job(Status.QUEUED, source="import time; time.sleep(30)")
    first = launcher.launch(job)
    task = _task(first.task_arn)
    assert task["startedBy"] == job.job_id
    override = task["overrides"]["containerOverrides"][0]
    assert {"name": "SHIFTWORK_JOB_ID", "value": job.job_id} in override["environment"]
    assert first.log_stream == f"runner/runner/{first.task_arn.rsplit('/', 1)[-1]}"


def test_stop_reaches_the_task(launcher, make_job):
    job = make_job(Status.QUEUED, source="import time; time.sleep(30)")
    launched = launcher.launch(job)
    launcher.stop(launched.task_arn, "Stopped by user (test)")
    stopped = wait_for(lambda: (t := _task(launched.task_arn))["lastStatus"] == "STOPPED" and t)
    assert stopped["stoppedReason"] == "Stopped by user (test)"


def test_a_runner_quicker_than_ecs_still_gets_its_task_and_logs_recorded(stack, make_job):
    """A warm local runner can finish before ECS answers RunTask: the job must still name its task and log stream,
    or its logs could never be found."""
    from shiftwork.dispatch.dispatcher import launch_queued
    from shiftwork.launchers import FargateLauncher
    from shiftwork.store import jobs

    job = make_job(Status.QUEUED)
    jobs.update(job.job_id, [Status.QUEUED], status=Status.IN_PROGRESS)
    jobs.update(job.job_id, [Status.IN_PROGRESS], status=Status.COMPLETED, end_time=jobs.now_ms())  # done already

    recorded = launch_queued(job, FargateLauncher())  # ... and now RunTask answers

    assert recorded.status == Status.COMPLETED  # untouched
    assert recorded.task_arn and recorded.log_stream == f"runner/runner/{recorded.task_arn.rsplit('/', 1)[-1]}"
    assert jobs.get(job.job_id).log_stream == recorded.log_stream
