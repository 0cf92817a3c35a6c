"""A failed job's retry waits its backoff in the dispatch queue (DelaySeconds), then the dispatcher launches it."""

from __future__ import annotations

import time
import uuid

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
    assert _delayed(stack.info.dispatch_queue_url) == 1  # its dispatch request, held back by DelaySeconds
    time.sleep(max(0.0, retry.create_time / 1000 + BACKOFF / 2 - time.time()))
    assert jobs.get(retry.job_id).status == Status.CREATED  # halfway through the backoff: not dispatched
    assert invoke("complete", stopped)["status"] == "FAILED"  # a duplicate event makes no second retry
    assert _delayed(stack.info.dispatch_queue_url) == 1

    done = wait_for(lambda: (job := jobs.get(retry.job_id)).is_terminal and job, timeout=90)
    assert done.status == Status.COMPLETED, done.status_message
    assert done.start_time is not None and done.start_time - retry.create_time >= BACKOFF * 1000
    assert _delayed(stack.info.dispatch_queue_url) == 0
