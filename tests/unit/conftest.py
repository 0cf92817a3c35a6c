"""Fixtures of the unit tests: a folder of user code for the workflow tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiftwork.workflows import Workflow
from tests.unit.workflow_modules import EXAMPLE, NOTEBOOK, Project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    path, modules = list(sys.path), set(sys.modules)
    yield Project(tmp_path)
    sys.path[:] = path  # each test's modules are its own: forget what it imported
    for name in set(sys.modules) - modules:
        if str(getattr(sys.modules[name], "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture
def example(project: Project) -> Workflow:
    project.write("report.ipynb", NOTEBOOK)
    project.write("pipeline.py", EXAMPLE)
    return project.load()
