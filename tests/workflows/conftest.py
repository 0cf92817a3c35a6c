"""Fixtures of the workflow tests (on the session's embedded stack): a Service, the recording launcher as the
process's launcher, a definition, a driver."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from shiftwork import launchers
from shiftwork.api.service import Service
from shiftwork.models import CreateJobDefinition
from tests.helpers import write_notebook
from tests.workflows.advancing import Driver, RecordingLauncher


@pytest.fixture
def recorder(stack: object) -> Iterator[RecordingLauncher]:
    """The process's launcher for the test (the completion handler launches with it), then the stack's again."""
    previous = launchers._process_launcher
    recording = RecordingLauncher()
    launchers.use_launcher(recording)
    yield recording
    launchers.use_launcher(previous)


@pytest.fixture(scope="module")
def definition(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A definition whose slots the runs take (max 50), so that a run's end must give exactly one back."""
    notebook = write_notebook(tmp_path_factory.mktemp("nb") / "n.ipynb", "x = 1", "print(x)")
    service = Service()
    made = service.definitions.create(CreateJobDefinition(input_uri=str(notebook), max_running_jobs=50))
    yield made.job_definition_id
    with contextlib.suppress(Exception):
        service.definitions.delete(made.job_definition_id)


@pytest.fixture
def driver(recorder: RecordingLauncher) -> Iterator[Driver]:
    made = Driver(recorder)
    yield made
    made.close()


@pytest.fixture
def service(stack: object) -> Service:
    return Service()


@pytest.fixture
def write_workflow(tmp_path):
    """write_workflow(module, source, name): the @workflow `name` of a module written to tmp_path, loaded as the
    CLI loads one (its folder on sys.path); the module and the path are forgotten after the test."""
    import sys

    from shiftwork.workflows import load_workflow

    written: list[str] = []

    def write(module: str, source: str, name: str) -> object:
        (tmp_path / f"{module}.py").write_text(source)
        written.append(module)
        return load_workflow(str(tmp_path / f"{module}.py:{name}"))

    yield write
    for module in written:
        sys.modules.pop(module, None)
    while str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))
