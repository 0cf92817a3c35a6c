"""What a task gives back and how it ends: pickled results, per-task retries, per-task timeouts."""

from __future__ import annotations

import pytest

from shiftwork.models import Status

OUTCOMES = """
import time
from pathlib import Path
from shiftwork import task, workflow

@task
def pair() -> tuple:
    return (1, "a")  # a tuple: JSON would give back a list, so it is pickled

@task
def use(p: tuple) -> str:
    assert isinstance(p, tuple)
    return f"{p[0]}-{p[1]}"

@task(timeout=1)
def slow() -> None:
    time.sleep(30)

@task(retries=2)
def third_time(counter: str) -> int:
    path = Path(counter)
    tries = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(tries))
    if tries < 3:
        raise ValueError(f"attempt {tries} fails")
    return tries

@task
def after_slow(x: None) -> str:
    return "never"

@workflow(name="outcomes")
def outcomes(counter: str = "/nonexistent"):
    use(pair())
    after_slow(slow())
    third_time(counter)
"""


@pytest.fixture
def outcomes(write_workflow):
    return write_workflow("outcomes_flow", OUTCOMES, "outcomes")


def test_results_retries_and_timeouts_as_a_user_sees_them(service, outcomes, tmp_path):
    run = outcomes.run(using=service, counter=str(tmp_path / "counter"))
    done = run.wait(timeout=180)
    assert done.status == Status.FAILED  # slow timed out: the run fails, once nothing else can run
    tasks = {t.task_id: t for t in run.tasks()}
    assert {name: t.status for name, t in tasks.items()} == {
        "pair": "COMPLETED",
        "use": "COMPLETED",
        "slow": "FAILED",
        "after_slow": "UPSTREAM_FAILED",
        "third_time": "COMPLETED",
    }
    assert "timed out after 1 s" in (tasks["slow"].status_message or "")
    assert (tasks["third_time"].attempt, run.result("third_time")) == (3, 3)  # two retries, then it passed
    assert tasks["pair"].result_format == "pickle" and run.result("pair") == (1, "a")
    assert run.result("use") == "1-a"  # the pickled tuple reached its dependent as a tuple
    given = service.workflows.result(run.run_id, "pair")  # the API never unpickles: it offers the download
    assert (given.format, given.value) == ("pickle", None) and given.download_url
    assert tasks["third_time"].status_message is None  # the last attempt's state, not an earlier one's failure
