"""The completion handler fed the sample ECS events from events/."""

from __future__ import annotations

from shiftwork.dispatch import handle_task_state_change
from shiftwork.models import Status
from shiftwork.store import jobs
from tests.helpers import load_event

TASK = "arn:aws:ecs:us-east-1:123456789012:task/shiftwork/0b8a5c1ad5b94cb3a6d1d0d0d5f5ee55"


def _detail(name, job):
    return load_event(name, job_id=job.job_id, task_arn=TASK)["detail"]


def test_a_task_that_died_before_reporting_fails_the_job_once(make_job):
    job = make_job(Status.IN_PROGRESS, task_arn=TASK)
    failed = handle_task_state_change(_detail("ecs_task_state_change_stopped.json", job))
    assert failed.status == Status.FAILED
    assert failed.status_message.startswith("runner stopped before reporting: Essential container in task exited")
    assert "OutOfMemoryError" in failed.status_message
    again = handle_task_state_change(_detail("ecs_task_state_change_stopped.json", job))  # a duplicate delivery
    assert again.update_time == failed.update_time
    assert jobs.get(job.job_id).status == Status.FAILED


def test_an_event_after_the_runner_reported_changes_nothing(make_job):
    job = make_job(Status.COMPLETED, task_arn=TASK)
    assert handle_task_state_change(_detail("ecs_task_state_change_completed.json", job)).status == Status.COMPLETED


def test_a_stopping_job_becomes_stopped(make_job):
    job = make_job(Status.STOPPING, task_arn=TASK)
    stopped = handle_task_state_change(_detail("ecs_task_state_change_completed.json", job))
    assert stopped.status == Status.STOPPED
    assert stopped.end_time is not None


def test_an_event_for_another_attempts_task_is_ignored(make_job):
    job = make_job(Status.IN_PROGRESS, task_arn=TASK + "-second-attempt")
    assert handle_task_state_change(_detail("ecs_task_state_change_stopped.json", job)).status == Status.IN_PROGRESS


def test_an_event_for_a_deleted_job_is_ignored():
    import uuid

    detail = load_event("ecs_task_state_change_stopped.json", job_id=str(uuid.uuid4()), task_arn=TASK)["detail"]
    assert handle_task_state_change(detail) is None
