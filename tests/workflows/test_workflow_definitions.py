"""A deployed workflow is a definition like a notebook's: versioned, run now, retried, limited, fired."""

from __future__ import annotations

import pytest

from shiftwork.api.service import Service
from shiftwork.errors import LimitReached
from shiftwork.models import Status
from tests.functional.conftest import wait_for

PIPELINE = """
from pathlib import Path
from shiftwork import task, workflow

@task
def prepare(marker: str) -> int:
    return 20

@task
def flaky(n: int, marker: str) -> int:
    seen = Path(marker)
    if not seen.exists():  # fails the first time only: the definition's retry reruns it
        seen.write_text("failed once")
        raise RuntimeError("first attempt fails")
    return n + 1

@task
def report(value: int) -> str:
    return f"value {value}"

@workflow(name="flaky-pipeline", max_retries=1, retry_backoff_seconds=0)
def pipeline(marker: str = "/nonexistent"):
    report(flaky(prepare(marker), marker))
"""


@pytest.fixture
def flaky(write_workflow):
    return write_workflow("flaky_pipeline", PIPELINE, "pipeline")


def test_a_deployed_workflow_is_versioned_and_retried_as_a_partial_rerun(stack, flaky, tmp_path):
    service = Service()
    first = flaky.deploy(using=service, job_definition_id="flaky-wf")
    second = flaky.deploy(using=service, job_definition_id="flaky-wf")
    assert (first.kind, first.version, second.version) == ("workflow", 1, 2)
    assert second.input_filename == "flaky_pipeline.py"

    run = service.definitions.run("flaky-wf", {"marker": str(tmp_path / "marker")})
    failed = service.wait_job(run.job_id, timeout=120)
    assert failed.status == Status.FAILED
    assert "flaky" in (failed.status_message or "")
    states = {t.task_id: t.status for t in service.workflows.tasks(run.job_id)}
    assert states == {"prepare": "COMPLETED", "flaky": "FAILED", "report": "UPSTREAM_FAILED"}

    retry = wait_for(lambda: next((j for j in service.iter_jobs(job_definition_id="flaky-wf") if j.retry_of), None))
    done = service.wait_job(retry.job_id, timeout=120)
    assert done.status == Status.COMPLETED, done.status_message
    assert (done.original_run_id, done.partial_rerun, done.attempt) == (run.job_id, True, 2)
    reused = {t.task_id: t.reused_from for t in service.workflows.tasks(retry.job_id)}
    assert reused == {"prepare": run.job_id, "flaky": None, "report": None}
    assert service.workflows.result_value(retry.job_id, "report") == "value 21"
    full = service.workflows.rerun(run.job_id, full=True, version=1)  # version 1's code, every task again
    assert service.wait_job(full.job_id, timeout=120).status == Status.COMPLETED
    assert (full.job_definition_version, full.partial_rerun) == (1, False)
    assert full.input_prefix.startswith("definitions/flaky-wf/v1-")
    assert all(t.reused_from is None for t in service.workflows.tasks(full.job_id))
    from shiftwork.store import slots

    assert slots.taken("flaky-wf") == 0  # each run gave its slot back


def test_a_workflow_definition_keeps_its_max_running_jobs(stack, flaky, tmp_path):
    service = Service()
    flaky.deploy(using=service, job_definition_id="limited-wf", max_retries=0)
    (tmp_path / "marker").write_text("not the first time")
    run = service.definitions.run("limited-wf", {"marker": str(tmp_path / "marker")})
    with pytest.raises(LimitReached):
        service.definitions.run("limited-wf")
    assert service.wait_job(run.job_id, timeout=120).status == Status.COMPLETED
    assert service.workflows.result_value(run.job_id, "report") == "value 21"


KEYED = """
from shiftwork import task, workflow

@task
def size(s3_key: str) -> str:
    return f"got {s3_key}"

@workflow(name="keyed", schedule="0 * * * *", watch_prefix="data/keyed/")
def keyed(s3_key: str = "none"):
    size(s3_key)
"""


def test_a_workflow_runs_on_its_schedule_and_when_a_file_lands(service, write_workflow):
    from datetime import UTC, datetime, timedelta

    from shiftwork import aws
    from shiftwork.local.lambdas import invoke
    from shiftwork.store import definitions
    from tests.helpers import load_event

    keyed = write_workflow("keyed_flow", KEYED, "keyed")
    definition = keyed.deploy(using=service, job_definition_id="keyed-wf")
    since = int((datetime.now(UTC) - timedelta(hours=3)).timestamp() * 1000)
    definitions.update("keyed-wf", definition.version, active_since=since, max_running_jobs=5)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    fire = load_event("scheduler_fire.json", job_definition_id="keyed-wf", scheduled_time=hour.isoformat())
    fired, again = invoke("dispatch", fire), invoke("dispatch", fire)  # EventBridge Scheduler: at least once
    assert fired["job_id"] == again["job_id"] and fired["kind"] == "workflow"
    key = "data/keyed/2026-12-01.csv"
    aws.client("s3").put_object(Bucket=service.settings.bucket, Key=key, Body=b"a\n1\n")
    [landed] = invoke(
        "s3_trigger", load_event("s3_object_created.json", bucket=service.settings.bucket, key=key, sequencer="00CD")
    )
    runs = {"fire": fired["job_id"], "upload": landed["job_id"]}
    for run_id in runs.values():
        assert service.wait_job(run_id, timeout=120).status == Status.COMPLETED
    assert service.workflows.result_value(runs["fire"], "size") == "got none"
    assert service.workflows.result_value(runs["upload"], "size") == f"got {key}"  # the key, as a notebook's
