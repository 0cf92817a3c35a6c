"""User code for the workflow tests: a folder of real modules, loaded as `shiftwork workflow run` loads them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from shiftwork.models.workflow import WorkflowSpec
from shiftwork.workflows import Workflow, load_workflow

HEADER = "from shiftwork import Resources, Schedule, notebook_task, task, workflow\n"
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

TASKS = """
@task(memory="512m", cpu=0.5)
def load(day: str) -> list[float]:
    return [float(len(day)), 2.0]

@task(memory="2g", cpu=1, retries=2, timeout=600)
def fit(data: list[float], alpha: float) -> dict:
    return {"alpha": alpha, "score": sum(data) * alpha}

@task()
def best(models: list[dict]) -> dict:
    return max(models, key=lambda model: model["score"])

@task
def score(alpha: float, data: list[float]) -> float:
    return alpha * sum(data)
"""

EXAMPLE = (
    TASKS
    + """
BODY_RUNS = []

@workflow(name="daily-models", schedule=Schedule(at_hours=[6], weekdays=["Mon", "Fri"], timezone="Europe/London"),
          resources=Resources(memory="1g", cpu=1), python_requirements=["numpy"], max_running_jobs=2)
def daily(day: str = "2026-01-01"):
    BODY_RUNS.append(day)
    data = load(day)
    models = [fit(data, a).alias(f"fit_{i}") for i, a in enumerate([0.1, 1.0, 10.0])]
    winner = best(models)
    alphas = load(day).alias("alphas")
    scores = score.map(items=alphas, data=data)
    notebook_task("report.ipynb", parameters={"winner": winner, "day": day, "scores": scores})
"""
)


class Project:
    """A folder of user code; load() imports a workflow from it the way the CLI does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, relative: str, source: str, header: bool = True) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = source if relative.endswith(".ipynb") else (HEADER if header else "") + textwrap.dedent(source)
        path.write_text(text)
        return path

    def load(self, target: str = "pipeline.py:daily") -> Workflow:
        return load_workflow(str(self.folder / target))

    def spec_of(self, body: str, tasks: str = TASKS, name: str = "pipeline") -> WorkflowSpec:
        """The spec of a module holding TASKS and `body` (a @workflow named daily)."""
        self.write(f"{name}.py", tasks + textwrap.dedent(body))
        return self.load(f"{name}.py:daily").spec()


def task_of(spec: WorkflowSpec, name: str) -> dict:
    return spec.task(name).model_dump(mode="json")
