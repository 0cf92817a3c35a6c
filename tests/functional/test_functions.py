"""The Lambda handlers (functions/) fed the real-shaped payloads in events/, against moto server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shiftwork import aws
from shiftwork.models import Status
from shiftwork.store import jobs
from tests.functional.conftest import wait_for
from tests.helpers import load_event, write_notebook

TASK = "arn:aws:ecs:us-east-1:123456789012:task/shiftwork/0b8a5c1ad5b94cb3a6d1d0d0d5f5ee55"


@pytest.fixture
def fargate(stack):
    """Launch with Fargate, as the dispatch Lambda does (moto records the task; nothing runs)."""
    from shiftwork.launchers import FargateLauncher, use_launcher

    use_launcher(FargateLauncher())
    yield
    use_launcher(stack.launcher)


def _invoke(name, event):
    from shiftwork.local.lambdas import invoke

    return invoke(name, event)


def test_complete_fails_a_job_whose_task_died(make_job):
    job = make_job(Status.IN_PROGRESS, task_arn=TASK)
    result = _invoke("complete", load_event("ecs_task_state_change_stopped.json", job_id=job.job_id, task_arn=TASK))
    assert result["status"] == "FAILED"
    assert "OutOfMemoryError" in result["status_message"]


def test_dispatch_launches_a_run_now_request_once(fargate, make_job):
    job = make_job(Status.CREATED)
    event = load_event("dispatch_run_now.json", job_id=job.job_id)
    first, second = _invoke("dispatch", event), _invoke("dispatch", event)
    assert first["status"] == "QUEUED" and first["task_arn"]
    assert second["task_arn"] == first["task_arn"]


def test_dispatch_turns_a_scheduler_fire_into_one_job(fargate, service, tmp_path):
    from shiftwork.models import CreateJobDefinition
    from shiftwork.store import definitions

    notebook = write_notebook(tmp_path / "n.ipynb", "x = 1", "x")
    definition = service.definitions.create(CreateJobDefinition(input_uri=str(notebook), schedule="0 * * * *"))
    since = int((datetime.now(UTC) - timedelta(hours=3)).timestamp() * 1000)
    definitions.update(definition.job_definition_id, definition.version, active_since=since)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    event = load_event(
        "scheduler_fire.json",
        job_definition_id=definition.job_definition_id,
        scheduled_time=hour.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    first, again = _invoke("dispatch", event), _invoke("dispatch", event)
    assert first["job_id"] == again["job_id"]
    assert first["scheduled_time"] == hour.isoformat()
    assert first["status"] == "QUEUED"


def test_s3_trigger_runs_a_notebook_uploaded_to_the_inbox_once(fargate, service, tmp_path):
    notebook = write_notebook(tmp_path / "landed.ipynb", "x = 1", "print(x)")
    settings = service.settings
    aws.client("s3").put_object(Bucket=settings.bucket, Key="inbox/team/landed.ipynb", Body=notebook.read_bytes())
    event = load_event(
        "s3_object_created.json", bucket=settings.bucket, key="inbox/team/landed.ipynb", sequencer="0062E99A88DC407460"
    )
    [first], [duplicate] = _invoke("s3_trigger", event), _invoke("s3_trigger", event)
    assert first["job_id"] == duplicate["job_id"]
    assert first["input_filename"] == "landed.ipynb"
    assert first["tags"] == [f"s3://{settings.bucket}/inbox/team/landed.ipynb"]
    assert first["status"] == "QUEUED" and first["task_arn"]
    tags = load_event(
        "s3_object_tags_added.json",
        bucket=settings.bucket,
        key="inbox/team/landed.ipynb",
        sequencer="0062E99A88DC407461",
    )
    assert _invoke("s3_trigger", tags) == []
    elsewhere = load_event("s3_object_created.json", bucket=settings.bucket, key="data/prices.csv", sequencer="1")
    assert _invoke("s3_trigger", elsewhere) == []


def test_an_upload_runs_end_to_end_on_the_embedded_stack(service, tmp_path):
    """S3 (EventBridge notifications on) -> EventBridge rule -> SQS -> functions.s3_trigger -> runner."""
    notebook = write_notebook(tmp_path / "arrived.ipynb", "x = 1", "print('arrived', x)")
    aws.client("s3").put_object(Bucket=service.settings.bucket, Key="inbox/arrived.ipynb", Body=notebook.read_bytes())

    def arrived():
        return [j for j in service.iter_jobs() if j.tags == [f"s3://{service.settings.bucket}/inbox/arrived.ipynb"]]

    [job] = wait_for(arrived, timeout=60)
    done = wait_for(lambda: (j := jobs.get(job.job_id)).is_terminal and j, timeout=90)
    assert done.status == Status.COMPLETED, done.status_message
    assert len(arrived()) == 1  # "Object Tags Added" and duplicates made no second job


def test_a_file_under_a_watched_prefix_runs_the_definition_with_its_key(fargate, service, tmp_path):
    from shiftwork.errors import InvalidSpec
    from shiftwork.models import CreateJobDefinition

    notebook = write_notebook(tmp_path / "prices.ipynb", "s3_key = ''", "print('loading', s3_key)")
    definition = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), watch_prefix="data/prices/", parameters={"region": "eu"})
    )
    assert definition.compiled == [] and definition.schedule is None
    key = "data/prices/2026-11-21.csv"
    aws.client("s3").put_object(Bucket=service.settings.bucket, Key=key, Body=b"a,b\n1,2\n")
    event = load_event("s3_object_created.json", bucket=service.settings.bucket, key=key, sequencer="00AB")
    [job], [again] = _invoke("s3_trigger", event), _invoke("s3_trigger", event)
    assert job["job_id"] == again["job_id"]
    assert job["job_definition_id"] == definition.job_definition_id
    assert job["parameters"] == {"region": "eu", "s3_key": key}
    with pytest.raises(InvalidSpec, match="watch prefix 'jobs/'"):
        service.definitions.create(CreateJobDefinition(input_uri=str(notebook), watch_prefix="jobs/"))
    on_demand = service.definitions.create(CreateJobDefinition(input_uri=str(notebook)))  # as Jupyter Scheduler's
    assert on_demand.compiled == [] and on_demand.watch_prefix is None  # no schedule: it runs when asked to


def test_api_answers_an_http_api_event_with_filtered_sorted_jobs(make_job):
    import json

    late = 4_000_000_000_000  # after every other job of the session: these come first in -end_time order
    finished = [
        make_job(Status.COMPLETED, name=name, end_time=late + end) for name, end in (("b", 2), ("a", 2), ("c", 3))
    ]
    make_job(Status.FAILED, name="failed", end_time=late + 9)
    result = _invoke("api", load_event("api_list_jobs.json"))
    assert result["statusCode"] == 200
    page = json.loads(result["body"])
    assert [j["job_id"] for j in page["jobs"][:3]] == [finished[2].job_id, finished[1].job_id, finished[0].job_id]
    assert all(j["status"] == "COMPLETED" for j in page["jobs"]) and len(page["jobs"]) <= 5


def test_api_runs_a_definition_now_from_an_http_api_event(fargate, service, tmp_path):
    import json

    from shiftwork.models import CreateJobDefinition

    notebook = write_notebook(tmp_path / "n.ipynb", "who = 'x'", "print(who)")
    definition = service.definitions.create(CreateJobDefinition(input_uri=str(notebook)))
    event = load_event("api_run_definition.json", job_definition_id=definition.job_definition_id, who="from-api")
    result = _invoke("api", event)
    assert result["statusCode"] == 200, result["body"]
    job = json.loads(result["body"])
    assert job["parameters"] == {"who": "from-api"} and job["job_definition_id"] == definition.job_definition_id
    assert wait_for(lambda: jobs.get(job["job_id"]).task_arn)  # dispatched: a Fargate task was asked for


def test_dispatch_consumes_a_batch_from_the_dispatch_queue(fargate, make_job):
    """What the dispatch queue's event source mapping sends: each record's body is a dispatch payload."""
    import json

    first, second = make_job(Status.CREATED), make_job(Status.CREATED)
    event = load_event("dispatch_sqs.json", job_id=first.job_id, other_job_id=second.job_id)
    assert _invoke("dispatch", event) == {"batchItemFailures": []}
    launched = [jobs.get(job.job_id) for job in (first, second)]
    assert [(job.status, bool(job.task_arn)) for job in launched] == [(Status.QUEUED, True)] * 2
    assert _invoke("dispatch", event) == {"batchItemFailures": []}  # delivered again: launched once
    assert [jobs.get(job.job_id).task_arn for job in launched] == [job.task_arn for job in launched]

    third = make_job(Status.CREATED)
    broken = load_event("dispatch_sqs.json", job_id=third.job_id, other_job_id="x")
    broken["Records"][1]["body"] = json.dumps({"job_id": third.job_id})[:-3]  # cut short: not JSON
    failed = broken["Records"][1]["messageId"]
    assert _invoke("dispatch", broken) == {"batchItemFailures": [{"itemIdentifier": failed}]}  # comes back alone
    assert jobs.get(third.job_id).task_arn

    gone = make_job(Status.CREATED)
    jobs.delete(gone.job_id)  # deleted while its request waited (a retry's backoff): nothing to run, no failure
    event = load_event("dispatch_sqs.json", job_id=gone.job_id, other_job_id=third.job_id)
    assert _invoke("dispatch", event) == {"batchItemFailures": []}
