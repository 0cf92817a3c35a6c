"""A spec recorded from code (not written by hand) runs on the embedded stack: fan-out, fan-in, aliases, parameters."""

from __future__ import annotations

import sys
from pathlib import Path

from shiftwork.api.service import Service
from shiftwork.models.workflow import RunWorkflow
from shiftwork.workflows import load_workflow

PIPELINE = """
from shiftwork import Resources, task, workflow

@task(memory="512m", cpu=0.25)
def load(day: str) -> list[float]:
    return [float(len(day)), 2.0]

@task(retries=1)
def fit(data: list[float], alpha: float) -> dict:
    return {"alpha": alpha, "score": sum(data) * alpha}

@task
def best(models: list[dict]) -> dict:
    return max(models, key=lambda model: model["score"])

@task
def square(x: float) -> float:
    return x * x

@task
def total(xs: list[float]) -> float:
    return sum(xs)

@workflow(name="recorded", resources=Resources(memory="512m", cpu=0.25))
def daily(day: str = "2026-01-01", top: float = 10.0):
    data = load(day)
    models = [fit(data, a).alias(f"fit_{i}") for i, a in enumerate([0.1, 1.0])]
    winner = best([*models, fit(data, top).alias("fit_top")])
    squares = square.map(data)
    best([{"alpha": 0.0, "score": total(squares)}, winner]).alias("overall")
"""


def test_a_recorded_workflow_runs_and_its_results_are_the_functions(stack: object, tmp_path: Path) -> None:
    (tmp_path / "recorded_pipeline.py").write_text(PIPELINE)
    try:
        daily = load_workflow(str(tmp_path / "recorded_pipeline.py:daily"))
        request = RunWorkflow(spec=daily.spec(), parameters={"day": "2026-03-02", "top": 3.0})
        service = Service()
        run = service.workflows.run(request, daily.code_files())
        done = service.wait_job(run.job_id, timeout=120)
    finally:
        sys.modules.pop("recorded_pipeline", None)
        sys.path.remove(str(tmp_path))
    assert done.status == "COMPLETED", done.status_message
    result = service.workflows.result_value
    assert result(run.job_id, "load") == [10.0, 2.0]
    assert result(run.job_id, "best") == {"alpha": 3.0, "score": 36.0}  # the parameter, not the default, reached fit
    assert [result(run.job_id, f"square[{i}]") for i in (0, 1)] == [100.0, 4.0]  # one instance per element
    assert result(run.job_id, "square") == [100.0, 4.0]  # the mapped task's result: its instances', in order
    assert service.workflows.result(run.job_id, "square").value == [100.0, 4.0]  # the API's JSON, the same
    assert result(run.job_id, "overall") == {"alpha": 0.0, "score": 104.0}  # a reference inside a constant dict
