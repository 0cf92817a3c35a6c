"""The first workflow: the README's Workflows session runs examples/workflow/pipeline.py as a user would, in a
script of its own (its own embedded stack over a temp state dir): a run to COMPLETED with the notebook task's
result and outputs, a run whose late benchmark fails (report UPSTREAM_FAILED), and its rerun reusing the rest."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import clean_environment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "workflow"

pytestmark = pytest.mark.e2e

# After the session, in the same script: what the test checks, as JSON on the last line.
EPILOGUE = """
import json as _json
from pathlib import Path as _Path
from shiftwork.workflows.sdk import backend as _backend

_files = _backend().download_job_files(run.run_id, _Path("downloaded"))
print(_json.dumps({
    "runs": {name: handle.run_id for name, handle in {"run": run, "late": late, "again": again}.items()},
    "jobs": {name: handle.job().model_dump(mode="json") for name, handle in {"late": late, "again": again}.items()},
    "tasks": {
        name: [task.model_dump(mode="json") for task in handle.tasks()]
        for name, handle in {"run": run, "late": late, "again": again}.items()
    },
    "details": run.details().model_dump(mode="json"),
    "files": sorted(str(path.relative_to("downloaded")) for path in _files),
}))
"""


def readme_workflow_session() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Workflows") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def expected_results() -> dict[str, Any]:
    """What the example's functions return, called here directly (outside a workflow a @task just runs)."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        import pipeline

        data = pipeline.load("2026-03-02")
        winner = pipeline.best([pipeline.fit(data, alpha) for alpha in (0.1, 0.5, 0.9)])
        weekly = [pipeline.summarise(week) for week in pipeline.weeks(data)]
    finally:
        sys.path.remove(str(EXAMPLE))
        sys.modules.pop("pipeline", None)
    report = {"day": "2026-03-02", "alpha": winner["alpha"], "beats_benchmark": winner["error"] < 2.0, "weeks": 4}
    return {"best": winner, "summarise": weekly, "report": report}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The README's session run once from a copy of examples/workflow: its printed lines and the records after."""
    folder = tmp_path_factory.mktemp("example") / "workflow"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    result = subprocess.run(
        [sys.executable, "-c", readme_workflow_session() + EPILOGUE],
        cwd=folder,
        env=clean_environment(folder.parent / "state"),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    *printed, records = result.stdout.splitlines()
    return {"printed": printed, "stderr": result.stderr, "folder": folder, **json.loads(records)}


def by_id(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {task["task_id"]: task for task in tasks}


def test_the_first_run_completes_with_the_functions_results_and_the_notebooks(session: dict[str, Any]) -> None:
    expected = expected_results()
    printed = session["printed"]
    assert printed[0] == "COMPLETED"
    assert printed[1] == repr(expected["best"])
    assert printed[2] == repr(expected["summarise"])  # the mapped task's result: its instances', week by week
    assert printed[3] == repr(expected["report"])  # what the notebook passed to shiftwork.task_result()
    assert printed[4].startswith("alpha=0.5: mean error ") and printed[4].endswith(" over 27 days")
    readme = (ROOT / "README.md").read_text()
    assert f"# {printed[1]}" in readme and f"# {printed[4]}" in readme  # the README's comments say what it prints
    tasks = by_id(session["tasks"]["run"])
    names = ["load", "fit_0", "fit_1", "fit_2", "best", "weeks", "summarise", "benchmark", "report"]
    assert set(tasks) == {*names, *(f"summarise[{i}]" for i in range(4))}
    assert {task["status"] for task in tasks.values()} == {"COMPLETED"}
    assert [tasks[f"summarise[{i}]"]["executor"] for i in range(4)] == ["lambda"] * 4
    report = tasks["report"]
    prefix = f"jobs/{session['runs']['run']}/output/report/"
    assert sorted((f["file_format"], f["file_path"]) for f in report["job_files"]) == [
        ("html", prefix + "report.html"),
        ("ipynb", prefix + "report.ipynb"),
    ]


def test_the_report_notebook_rendered_its_table(session: dict[str, Any]) -> None:
    assert "report/report.html" in session["files"] and "report/report.ipynb" in session["files"]
    html = (session["folder"] / "downloaded" / "report" / "report.html").read_text()
    assert "<table>" in html and "week by week" in html  # the weekly table, rendered from Markdown
    import nbformat

    notebook = nbformat.read(session["folder"] / "downloaded" / "report" / "report.ipynb", as_version=4)
    injected = next(c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'day = "2026-03-02"' in injected.source  # the run's parameter, passed through the task


def test_run_details_show_sizing_times_and_cost(session: dict[str, Any]) -> None:
    details = session["details"]
    tasks = by_id(details["tasks"])
    assert tasks["load"]["requested"] == {"cpu": 0.5, "memory_mb": 512}  # @task(memory="512m", cpu=0.5)
    assert tasks["fit_1"]["requested"] == {"cpu": 1.0, "memory_mb": 1024}
    for task in (tasks["load"], tasks["fit_1"], tasks["report"]):
        assert task["cost_usd"] > 0 and task["run_seconds"] >= 0 and task["launch_seconds"] >= 0
    assert details["total_cost_usd"] > 0 and details["reused"] == 0


def test_a_late_benchmark_fails_the_run_and_the_report_never_runs(session: dict[str, Any]) -> None:
    assert session["printed"][-3] == "FAILED {'benchmark': 'FAILED', 'report': 'UPSTREAM_FAILED'}"
    late = by_id(session["tasks"]["late"])
    assert "is published at" in late["benchmark"]["status_message"]
    assert late["report"]["start_time"] is None  # never launched
    assert session["jobs"]["late"]["status"] == "FAILED"


def test_the_rerun_runs_only_the_failed_task_and_what_depends_on_it(session: dict[str, Any]) -> None:
    late_id = session["runs"]["late"]
    assert session["printed"][-2] == "COMPLETED ['benchmark', 'report']"
    again = by_id(session["tasks"]["again"])
    ran = {task_id for task_id, task in again.items() if task["reused_from"] is None}
    assert ran == {"benchmark", "report"}
    assert {task["reused_from"] for task_id, task in again.items() if task_id not in ran} == {late_id}
    assert {task["status"] for task in again.values()} == {"COMPLETED"}
    job = session["jobs"]["again"]
    assert job["original_run_id"] == late_id and job["partial_rerun"] is True
    assert job["parameters"] == session["jobs"]["late"]["parameters"]  # the same parameters: the data was late


def test_deploy_makes_a_versioned_definition_with_the_schedule(session: dict[str, Any]) -> None:
    assert session["printed"][-1] == "daily-models 1 cron(0 6 ? * 2,6 *)"  # Mon and Fri at 6, in Europe/London
    assert f"`{session['printed'][-1]}`" in (ROOT / "README.md").read_text()
