"""One embedded stack (a ThreadedMotoServer on port 0, bootstrapped, with a launcher) for the whole session."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from shiftwork.models import DescribeJob, Status
from tests.helpers import write_notebook


@pytest.fixture(scope="module")
def api(stack: object, tmp_path_factory: pytest.TempPathFactory):
    """The REST API over a real socket on 127.0.0.1 (the HTTP adapter `shiftwork up` serves), one per module."""
    from shiftwork.local.http_api import HttpApi, api_token

    server = HttpApi(api_token(tmp_path_factory.mktemp("api"))).start()
    yield server
    server.stop()


@pytest.fixture
def service(stack: object):
    from shiftwork.api.service import Service

    return Service()


@pytest.fixture
def make_job(stack: object, tmp_path: Path) -> Callable[..., DescribeJob]:
    """A job record (and its input) written straight to the store, without dispatching it."""
    from shiftwork.store import files, jobs

    def make(status: Status = Status.CREATED, source: str = "print('hi')", **fields: object) -> DescribeJob:
        job_id = str(uuid.uuid4())
        notebook = write_notebook(tmp_path / f"{job_id}.ipynb", "x = 1", source)
        files.upload_file(notebook, files.input_prefix(job_id) + notebook.name)
        create_time = fields.pop("create_time", None)  # a test that orders jobs by their creation
        job = jobs.draft(
            job_id,
            name=fields.pop("name", "made"),
            status=status,
            input_filename=notebook.name,
            output_formats=["ipynb"],
            **fields,
        )
        if create_time is not None:
            job = job.model_copy(update={"create_time": create_time})
        return jobs.put_new(job)

    return make


def wait_for(predicate: Callable[[], object], timeout: float = 60, interval: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not true after {timeout} s")
