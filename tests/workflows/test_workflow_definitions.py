"""A deployed workflow is a definition like a notebook's: versioned, run now, retried, limited, fired."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiftwork.api.service import Service
from shiftwork.errors import LimitReached
from shiftwork.models import Status
from shiftwork.workflows import load_workflow
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
def flaky(tmp_path: Path) -> Iterator[object]:
    (tmp_path / "flaky_pipeline.py").write_text(PIPELINE)
    yield load_workflow(str(tmp_path / "flaky_pipeline.py:pipeline"))
    sys.modules.pop("flaky_pipeline", None)
    sys.path.remove(str(tmp_path))


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
