"""Parameter names are Python identifiers everywhere: refused on create, update and run through the API, and
re-checked by the runner before it injects anything into a notebook."""

from __future__ import annotations

import pytest

from tests.functional.conftest import wait_for
from tests.functional.test_api_limits import _notebook, call, settled_state, state


@pytest.fixture(scope="module")
def definition(api):
    body = {"input_filename": "names.ipynb", "input_notebook": _notebook(), "job_definition_id": "names-checked"}
    status, made = call(api, "POST", "/job_definitions", {**body, "conflict_policy": "replace"})
    assert status == 200, made
    yield made
    call(api, "DELETE", "/job_definitions/names-checked")


@pytest.mark.parametrize("name", ["2x", "x-y", "a b", "class", "", "é-1"])
def test_update_and_run_refuse_a_name_that_is_not_an_identifier(api, definition, name):
    before = settled_state()
    status, error = call(api, "PATCH", "/job_definitions/names-checked", {"parameters": {name: 1}})
    assert status == 400 and f"parameter name {name!r}" in error["message"], error
    status, error = call(api, "POST", "/job_definitions/names-checked/jobs", {"parameters": {name: 1}})
    assert status == 400 and f"parameter name {name!r}" in error["message"], error
    assert state() == before
    assert call(api, "GET", "/job_definitions/names-checked")[1]["version"] == definition["version"]


def test_the_runner_refuses_a_record_written_past_the_api(make_job, service):
    """A job record with a bad name, written straight to the store: the runner FAILS it, injecting nothing."""
    from shiftwork.models import Status

    job = make_job(parameters={"not valid": 1}, source="print('ran anyway')")
    service.request_dispatch(job.job_id)
    done = wait_for(lambda: (j := service.get_job(job.job_id)).is_terminal and j, timeout=90)
    assert done.status == Status.FAILED
    assert "parameter name 'not valid'" in done.status_message and "identifier" in done.status_message
    assert not done.job_files  # it never ran: no output notebook
