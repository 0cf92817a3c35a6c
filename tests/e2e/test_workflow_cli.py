"""Workflows through the real `shiftwork` command: run --wait, runs, runs show (costs and a Gantt), result, logs,
a failed task rerun alone; bad input exit 2."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PIPELINE = """
import os

from shiftwork import task, workflow

@task(memory="700m", cpu=0.3)
def load(day: str) -> list[float]:
    print("loading", day)
    return [1.0, 2.0, 3.0]

@task(executor="lambda")
def fit(data: list[float], alpha: float) -> dict:
    return {"alpha": alpha, "score": sum(data) * alpha}

@task(executor="lambda")
def best(models: list[dict]) -> dict:
    return max(models, key=lambda model: model["score"])

@task(executor="lambda")
def distinct(data: list[float]) -> frozenset:
    return frozenset(data)

@task(executor="lambda")
def check(winner: dict, marker: str) -> float:
    if not os.path.exists(marker):
        raise RuntimeError("no marker file yet")
    return winner["alpha"]

@workflow(name="cli-pipe", schedule="0 6 * * mon,fri", timezone="Europe/London")
def daily(day: str = "2026-01-01", marker: str = "/nonexistent"):
    data = load(day)
    models = [fit(data, alpha).alias(f"fit_{i}") for i, alpha in enumerate([0.5, 2.0])]
    winner = best(models)
    distinct(data)
    check(winner, marker)
"""
TASKS = ["load", "fit_0", "fit_1", "best", "distinct", "check"]
CELL = r"[\s│]+"  # between two cells of a table row
RUN_CREATED = re.compile(r"run ([0-9a-f-]{36}) created")


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    return tmp_path


def _run_id(output: str) -> str:
    match = RUN_CREATED.search(output)
    assert match, output
    return match.group(1)


def test_a_run_waits_lists_shows_and_gives_its_results_and_logs(cli, pipeline):
    marker = pipeline / "marker"
    marker.touch()
    ran = cli("workflow", "run", "pipeline.py:daily", "-p", "day=2026-03-02", "-p", f"marker={marker}", "--wait",
              cwd=pipeline)  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run_id = _run_id(ran.stdout)
    table = ran.stdout.split("created", 1)[1]
    for task in TASKS:  # the live table's last state: every task, COMPLETED
        assert re.search(rf"^\s*{task}{CELL}COMPLETED", table, re.MULTILINE), table
    assert f"run {run_id} COMPLETED" in ran.stdout and "6 COMPLETED" in ran.stdout

    listed = cli("runs", cwd=pipeline)
    assert re.search(rf"{run_id}{CELL}cli-pipe{CELL}COMPLETED{CELL}6/6", listed.stdout), listed.stdout

    shown = cli("runs", "show", run_id, cwd=pipeline)
    assert shown.returncode == 0, shown.stderr
    assert "0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB" in shown.stdout  # load's Fargate rounding
    assert re.search(rf"^\s*total{CELL}.*\$0\.\d{{5}}", shown.stdout, re.MULTILINE), shown.stdout
    gantt = shown.stdout.split("running", 1)[1]  # after the legend: one bar per task on the shared axis
    for task in TASKS:
        assert re.search(rf"^{task}\s+ *░*█+", gantt, re.MULTILINE), gantt
    assert [line.split()[0] for line in gantt.splitlines()[1:7]] == TASKS  # in the spec's order

    best = cli("runs", "result", run_id, "--task", "best", "--json", cwd=pipeline)
    assert json.loads(best.stdout) == {"alpha": 2.0, "score": 12.0}
    pickled = cli("runs", "result", run_id, "--task", "distinct", cwd=pipeline)
    assert "pickled Python object" in pickled.stdout and "--out FILE" in pickled.stdout
    out = pipeline / "distinct.pickle"
    assert cli("runs", "result", run_id, "--task", "distinct", "--out", str(out), cwd=pipeline).returncode == 0
    assert pickle.loads(out.read_bytes()) == frozenset({1.0, 2.0, 3.0})

    logs = cli("runs", "logs", run_id, "--task", "load", cwd=pipeline)
    assert "loading 2026-03-02" in logs.stdout.splitlines()


def test_a_failed_task_exits_1_and_a_rerun_runs_only_it(cli, pipeline):
    marker = pipeline / "marker"
    failed = cli("workflow", "run", "pipeline.py:daily", "-p", f"marker={marker}", "--wait", cwd=pipeline)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    run_id = _run_id(failed.stdout)
    assert re.search(rf"^\s*check{CELL}FAILED", failed.stdout, re.MULTILINE), failed.stdout
    assert f"run {run_id} FAILED" in failed.stdout and "5 COMPLETED, 1 FAILED" in failed.stdout

    marker.touch()
    rerun = cli("runs", "rerun", run_id, "--wait", cwd=pipeline)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    new_id = _run_id(rerun.stdout)
    details = json.loads(cli("runs", "show", new_id, "--json", cwd=pipeline).stdout)
    reused = {t["task_id"] for t in details["tasks"] if t["reused_from"] == run_id}
    assert reused == set(TASKS) - {"check"} and details["reused"] == 5
    assert {t["task_id"]: t["status"] for t in details["tasks"]}["check"] == "COMPLETED"
    listed = cli("runs", "--status", "FAILED", cwd=pipeline)
    assert run_id in listed.stdout and new_id not in listed.stdout


def test_bad_input_exits_2_naming_the_value_and_the_fix(cli, pipeline):
    missing = cli("workflow", "run", "nope.py:daily", cwd=pipeline)
    assert missing.returncode == 2 and "nope.py" in missing.stderr and "give the .py file" in missing.stderr
    unknown = cli("workflow", "run", "pipeline.py:weekly", cwd=pipeline)
    assert unknown.returncode == 2 and "has no 'weekly'" in unknown.stderr and "daily" in unknown.stderr
    parameter = cli("workflow", "run", "pipeline.py:daily", "-p", "nope=1", cwd=pipeline)
    assert parameter.returncode == 2 and "parameters.nope" in parameter.stderr and "day, marker" in parameter.stderr
    assert not (cli.state_dir / "stack.json").exists() or "no runs yet" in cli("runs").stdout


def test_deploy_shows_the_version_the_schedule_in_words_and_the_next_fires(cli, pipeline):
    first = cli("workflow", "deploy", "pipeline.py:daily", "--id", "cli-pipe", cwd=pipeline)
    assert first.returncode == 0, first.stdout + first.stderr
    assert re.search(r"Definition\s+cli-pipe", first.stdout) and re.search(r"Version\s+1\b", first.stdout)
    assert "At 06:00 AM, only on Monday and Friday (Europe/London; 0 6 * * mon,fri)" in first.stdout
    fires = re.findall(r"\d{4}-\d\d-\d\dT06:00:00\+0[01]:00", first.stdout)  # London time, GMT or BST
    assert len(fires) == 3, first.stdout
    assert "load, fit_0, fit_1, best, distinct, check" in first.stdout
    again = cli("workflow", "deploy", "pipeline.py:daily", "--id", "cli-pipe", "--json", cwd=pipeline)
    assert json.loads(again.stdout)["version"] == 2
