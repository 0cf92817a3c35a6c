"""A failed job's retry waits its backoff in the dispatch queue (DelaySeconds), then the dispatcher launches it."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from shiftwork import aws
from shiftwork.models import CreateJobDefinition, Status
from shiftwork.store import jobs
from tests.functional.conftest import wait_for
from tests.helpers import load_event, write_notebook

TASK = "arn:aws:ecs:us-east-1:123456789012:task/shiftwork/5c1e0d9a7f2b4e33a1c9d8e7f6a5b4c3"
BACKOFF = 3


def _delayed(queue_url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"])


def test_a_retry_is_not_dispatched_before_its_backoff_and_is_after(stack, service, tmp_path):
    from shiftwork.dispatch.aftermath import retry_job_id
    from shiftwork.dispatch.fire import new_job
    from shiftwork.local.lambdas import invoke

    before = _delayed(stack.info.dispatch_queue_url)  # another test's retry may still be waiting
    notebook = write_notebook(tmp_path / "flaky.ipynb", "x = 1", "print('second time lucky', x)")
    definition = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), max_retries=1, retry_backoff_seconds=BACKOFF)
    )
    # the first attempt's runner reported a failure; then ECS says its task stopped
    first = new_job(definition, str(uuid.uuid4()), None, status=Status.FAILED, task_arn=TASK, end_time=jobs.now_ms())
    jobs.put_new(first.model_copy(update={"status_message": "RuntimeError: upstream not ready"}))
    stopped = load_event("ecs_task_state_change_stopped.json", job_id=first.job_id, task_arn=TASK)
    assert invoke("complete", stopped)["status"] == "FAILED"

    retry = jobs.get(retry_job_id(first.job_id, 2))
    assert (retry.attempt, retry.retry_of, retry.status) == (2, first.job_id, Status.CREATED)
    assert _delayed(stack.info.dispatch_queue_url) == before + 1  # its dispatch request, held by DelaySeconds
    time.sleep(max(0.0, retry.create_time / 1000 + BACKOFF / 2 - time.time()))
    assert jobs.get(retry.job_id).status == Status.CREATED  # halfway through the backoff: not dispatched

    done = wait_for(lambda: (job := jobs.get(retry.job_id)).is_terminal and job, timeout=90)
    assert done.status == Status.COMPLETED, done.status_message
    assert done.start_time is not None and done.start_time - retry.create_time >= BACKOFF * 1000
    assert invoke("complete", stopped)["status"] == "FAILED"  # a duplicate event: no second retry is queued
    assert _delayed(stack.info.dispatch_queue_url) <= before
    assert jobs.get(retry.job_id).update_time == done.update_time


def test_duplicate_events_racing_queue_one_retry_once(stack, service, tmp_path):
    """8 deliveries of the same task-stopped event at once: one retry job, one delayed dispatch request."""
    from shiftwork.dispatch.aftermath import retry_job_id
    from shiftwork.dispatch.fire import new_job
    from shiftwork.local.lambdas import invoke

    notebook = write_notebook(tmp_path / "raced.ipynb", "x = 1", "x")
    definition = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), max_retries=1, retry_backoff_seconds=60)
    )
    first = new_job(definition, str(uuid.uuid4()), None, status=Status.FAILED, task_arn=TASK, end_time=jobs.now_ms())
    jobs.put_new(first)
    stopped = load_event("ecs_task_state_change_stopped.json", job_id=first.job_id, task_arn=TASK)
    before = _delayed(stack.info.dispatch_queue_url)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: invoke("complete", stopped), range(8)))
    assert [r["status"] for r in results] == ["FAILED"] * 8
    assert _delayed(stack.info.dispatch_queue_url) == before + 1
    retries = [j for j in service.iter_jobs(job_definition_id=definition.job_definition_id) if j.retry_of]
    assert [j.job_id for j in retries] == [retry_job_id(first.job_id, 2)]
    jobs.delete(retries[0].job_id)  # its request, due in a minute, finds no job: the dispatcher ignores it
