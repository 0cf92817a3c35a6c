"""schemathesis against jupyter-scheduler's REST API on a real JupyterLab with ShiftworkScheduler: no case is a
5xx, and none makes a job or a definition.

jupyter-scheduler publishes no OpenAPI document, so this module writes one for its routes (the handlers'
paths, methods and query arguments) with its own pydantic models' JSON schemas as the request bodies. Bounded: a
few examples per operation.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 6
FIGURES: dict[str, Any] = {"cases": 0, "by_status": {}}
BEFORE: dict[str, Any] = {}
CALLED: list[str] = []
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
LIST_QUERY = ["name", "tags", "sort_by", "max_items", "next_token"]


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in names]


def _body(model: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}}}


def _operation(parameters: list[dict[str, Any]] | None = None, body: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"parameters": parameters or [], "responses": {"default": {"description": "any"}}}
    if body:
        operation["requestBody"] = _body(body)
    return operation


def document() -> dict[str, Any]:
    """jupyter-scheduler's routes (jupyter_scheduler/extension.py, handlers.py) as OpenAPI 3.0."""
    from jupyter_scheduler import models

    components: dict[str, Any] = {}
    for name in ("CreateJob", "UpdateJob", "CreateJobDefinition", "UpdateJobDefinition", "CreateJobFromDefinition"):
        schema = getattr(models, name).schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("definitions", {}))
        components[name] = schema
    jobs_query = _query("job_definition_id", "status", "start_time", *LIST_QUERY)
    paths = {
        "/scheduler/jobs": {"get": _operation(jobs_query), "post": _operation(body="CreateJob")},
        "/scheduler/jobs/count": {"get": _operation(_query("status"))},
        "/scheduler/jobs/{id}": {
            "get": _operation([ID]),
            "patch": _operation([ID], "UpdateJob"),
            "delete": _operation([ID]),
        },
        "/scheduler/jobs/{id}/download_files": {"get": _operation([ID, *_query("redownload")])},
        "/scheduler/job_definitions": {
            "get": _operation(_query("create_time", *LIST_QUERY)),
            "post": _operation(body="CreateJobDefinition"),
        },
        "/scheduler/job_definitions/{id}": {
            "get": _operation([ID]),
            "patch": _operation([ID], "UpdateJobDefinition"),
            "delete": _operation([ID]),
        },
        "/scheduler/job_definitions/{id}/jobs": {"post": _operation([ID], "CreateJobFromDefinition")},
        "/scheduler/runtime_environments": {"get": _operation()},
        "/scheduler/config": {"get": _operation()},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "jupyter-scheduler on Shiftwork", "version": "1"},
        "paths": paths,
        "components": {"schemas": components},
    }


schema = schemathesis.openapi.from_dict(
    document(),
    config=SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "no-shrink": True, "deterministic": True},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        }
    ),
)


@pytest.fixture(scope="module", autouse=True)
def report_figures(stack):
    BEFORE["ms"] = int(time.time() * 1000)
    yield
    print(f"\nschemathesis figures (jupyter-scheduler API): {FIGURES}")


@schema.parametrize()
@pytest.mark.timeout(120)
def test_the_scheduler_api_holds_under_fuzzing(case, lab):
    from schemathesis.checks import not_a_server_error

    response = case.call(base_url=lab.url, headers={"Authorization": f"token {lab.token}"}, timeout=60)
    FIGURES["cases"] += 1
    FIGURES["by_status"][response.status_code] = FIGURES["by_status"].get(response.status_code, 0) + 1
    case.validate_response(response, checks=[not_a_server_error])
    CALLED.append(f"{case.method} {case.formatted_path} -> {response.status_code}")


def test_no_fuzzed_case_made_a_job_or_a_definition():
    """After every case above (this module runs in order, in one worker)."""
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobsQuery

    assert CALLED, "the fuzzing above ran no case"
    service = Service()
    newest_jobs = service.list_jobs(ListJobsQuery(max_items=1)).jobs
    newest_definitions = service.definitions.list(max_items=1).job_definitions
    made = [x.create_time for x in (*newest_jobs, *newest_definitions) if x.create_time >= BEFORE["ms"]]
    assert made == [], f"one of {len(CALLED)} cases made a record: {CALLED[-20:]}"
