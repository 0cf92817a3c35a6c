"""A small workflow the run pages' tests run once per module: a diamond with a failing task, a map, a pickle."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from shiftwork.api.service import Service
from shiftwork.models import DescribeJob
from shiftwork.workflows.define import Workflow

MODULE = "dash_diamond"

DIAMOND = """
from shiftwork import task, workflow

@task(cpu=0.3, memory="700m")
def numbers(n: int) -> list[int]:
    print("making", n, "numbers")
    return list(range(n))

@task(executor="lambda")
def square(x: int) -> int:
    return x * x

@task(executor="lambda")
def total(xs: list[int]) -> dict:
    return {"total": sum(xs)}

@task(executor="lambda")
def pair(xs: list[int]) -> tuple:
    return (len(xs), "items")

@task(executor="lambda")
def broken(xs: list[int]) -> int:
    raise ValueError("broken on purpose")

@task(executor="lambda")
def report(t: dict, p: tuple, b: int) -> str:
    return "never"

@workflow(name="dash-diamond")
def diamond(n: int = 3):
    xs = numbers(n)
    squares = square.map(items=xs)
    report(total(squares), pair(xs), broken(xs))
"""


@pytest.fixture(scope="module")
def diamond(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workflow]:
    """DIAMOND loaded as the CLI loads a workflow (its folder on sys.path), forgotten after the module."""
    from shiftwork.workflows import load_workflow

    folder = tmp_path_factory.mktemp("dash-flow")
    (folder / f"{MODULE}.py").write_text(DIAMOND)
    yield load_workflow(f"{folder / MODULE}.py:diamond")
    sys.modules.pop(MODULE, None)
    while str(folder) in sys.path:
        sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def diamond_run(diamond: Workflow) -> DescribeJob:
    """One ended run of DIAMOND (n=3) on the session's stack, for the module's tests."""
    service = Service()
    run = diamond.run(using=service, n=3)
    run.wait(timeout=120)
    return service.workflows.get_run(run.run_id)
