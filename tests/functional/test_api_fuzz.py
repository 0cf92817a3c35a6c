"""schemathesis against the REST API over a real socket: its examples, coverage and fuzzing phases, real ids seeded.

Every response must be no 5xx and match the OpenAPI document; after every 4xx the jobs and definitions tables, the
bucket's keys and the schedules must be as they were. Bounded (max_examples, a per-case deadline) so the module
stays well under three minutes on two cores.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from tests.helpers import settle, write_notebook
from tests.helpers import stack_state as state

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 10  # per operation, for the fuzzing phase; examples and coverage add their own cases
HEAVY_MAX_EXAMPLES = 5
SEEDED_DEFINITION = "fuzz-seeded"
FIGURES: dict[str, Any] = {"cases": 0, "by_status": {}}
LAST_STATE: dict[str, Any] = {}  # the state after the last refused write, when nothing has changed it since


@pytest.fixture(scope="module")
def seeded(api, tmp_path_factory) -> dict[str, str]:
    """A finished job and a definition, so that the routes taking an id reach real records."""
    global STARTED_MS
    STARTED_MS = int(time.time() * 1000)  # this module's jobs, not those of the tests before it
    folder = tmp_path_factory.mktemp("fuzz-seed")
    ids = {"job_id": _seed_job(folder), "definition_id": _seed_definition(folder), **_seed_run(folder)}
    _settle()
    yield ids
    _settle()
    _delete_definitions_made_since(STARTED_MS)


def _delete_definitions_made_since(since_ms: int) -> None:
    """The definitions the fuzzing made (with their schedules and snapshots): later tests list definitions."""
    from shiftwork.api.service import Service

    service = Service()
    made = [d for d in service.definitions.list(max_items=1000).job_definitions if d.create_time >= since_ms]
    for definition in made:
        service.definitions.delete(definition.job_definition_id)


def _seed_job(folder, job_id: str | None = None) -> str:
    from shiftwork.models import Status
    from shiftwork.store import files, jobs

    job_id = job_id or str(uuid.uuid4())
    notebook = write_notebook(folder / f"{job_id}.ipynb", "x = 1", "print(x)")
    files.upload_file(notebook, files.input_prefix(job_id) + notebook.name)
    jobs.put_new(jobs.draft(job_id, name="seeded", status=Status.COMPLETED, input_filename=notebook.name))
    return job_id


def _seed_definition(folder) -> str:
    from shiftwork.api.service import Service
    from shiftwork.models import CreateJobDefinition

    notebook = write_notebook(folder / "seeded.ipynb", "x = 1", "pass")
    request = CreateJobDefinition(input_uri=str(notebook), name="seeded", conflict_policy="replace")
    return Service().definitions.create(request, SEEDED_DEFINITION).job_definition_id


def _seed_run(folder) -> dict[str, str]:
    """A finished workflow run (the documented example's spec and code), for the /runs routes."""
    import base64

    from shiftwork.api.routes.runs import EXAMPLE_CODE, EXAMPLE_SPEC
    from shiftwork.api.service import Service
    from shiftwork.models.workflow import RunWorkflow

    (folder / "pipe.py").write_bytes(base64.b64decode(EXAMPLE_CODE["pipe.py"]))
    service = Service()
    run = service.workflows.run(RunWorkflow.model_validate({"spec": EXAMPLE_SPEC}), {"pipe.py": folder / "pipe.py"})
    assert service.wait_job(run.job_id, timeout=60).status.value == "COMPLETED"
    return {"run_id": run.job_id, "task_id": EXAMPLE_SPEC["tasks"][0]["name"]}


STARTED_MS = int(time.time() * 1000)  # reset when the module's fixtures start


def _settle(timeout: float = 60) -> None:
    settle(STARTED_MS, timeout)


def _schema() -> Any:
    """The document /openapi.json serves, made as the server makes it (the same app); requests go to the socket."""
    import json

    from shiftwork.api.routes import build_app

    config = SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "no-shrink": True, "deterministic": True},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
            # the creates stage a notebook or code, a snapshot and schedules per case: fewer fuzzed ones
            "operations": [
                {"include-name": name, "generation": {"max-examples": HEAVY_MAX_EXAMPLES}}
                for name in ("POST /jobs", "POST /job_definitions")
            ]
            + [
                # each valid case is a whole run (or a version) to settle: the examples phase sends the documented
                # one, the coverage phase only its invalid variants (valid runs: test_client_workflows.py)
                {
                    "include-name": name,
                    "generation": {"max-examples": HEAVY_MAX_EXAMPLES},
                    "phases": {"coverage": {"generation": {"mode": "negative"}}},
                }
                for name in ("POST /workflows/runs", "POST /workflows/definitions", "POST /runs/{run_id}/rerun")
            ],
        }
    )
    return schemathesis.openapi.from_dict(json.loads(build_app().get_openapi_json_schema()), config=config)


schema = _schema()


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    started = time.monotonic()
    yield
    FIGURES["seconds"] = round(time.monotonic() - started, 1)
    print(f"\nschemathesis figures: {FIGURES}")


def test_the_state_read_from_moto_is_what_its_api_lists(seeded):
    """stack_state reads moto's store in this process (fast); it must hold what Scan and the listings answer."""
    from shiftwork import aws
    from shiftwork.config import get_settings

    settings = get_settings()
    dynamodb, s3 = aws.client("dynamodb", settings), aws.client("s3", settings)
    tables = {
        table: sorted(
            repr(sorted(item.items()))
            for page in dynamodb.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        )
        for table in (settings.jobs_table, settings.definitions_table, settings.tasks_table)
    }
    keys = sorted(
        (item["Key"], item["ETag"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket)
        for item in page.get("Contents", [])
    )
    listed = aws.client("scheduler", settings).get_paginator("list_schedules")
    schedules = sorted(
        s["Name"] for page in listed.paginate(GroupName=settings.schedule_group) for s in page.get("Schedules", [])
    )
    read = state()
    assert read == {"tables": tables, "keys": keys, "schedules": schedules}
    assert seeded["job_id"] in str(read["tables"][settings.jobs_table])  # not an empty store that matches nothing
    assert seeded["definition_id"] in str(read["tables"][settings.definitions_table])


@schema.parametrize()
@pytest.mark.timeout(240)
def test_api_holds_under_fuzzing(case, seeded, api, tmp_path_factory):
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE and case.path_parameters:
        # a valid request: aim it at the real records (negative cases keep their malformed ids)
        for name in case.path_parameters:
            case.path_parameters[name] = seeded[name if name in seeded else "definition_id"]
    started = time.monotonic()
    try:
        _check_case(case, seeded, api, tmp_path_factory)
    finally:
        spent = FIGURES.setdefault("seconds_by_operation", {})
        spent[case.operation.label] = round(spent.get(case.operation.label, 0) + time.monotonic() - started, 1)


def _check_case(case, seeded, api, tmp_path_factory) -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    writes = case.method.upper() != "GET"  # a GET reads only: no state to compare
    before = (LAST_STATE.pop("state", None) or state()) if writes else None
    response = case.call(base_url=api.url, headers={"Authorization": f"Bearer {api.token}"}, timeout=60)
    FIGURES["cases"] += 1
    FIGURES["by_status"][response.status_code] = FIGURES["by_status"].get(response.status_code, 0) + 1
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
            negative_data_rejection,
        ],
    )
    if not writes:
        return
    if 400 <= response.status_code < 500:
        after = state()
        refused = f"{case.method} {case.formatted_path} answered {response.status_code}"
        assert after == before, f"{refused} but changed state: {_diff(before, after)}"
        LAST_STATE["state"] = after  # unchanged, so it is the next case's "before"
        return
    _restore_seeds(seeded, tmp_path_factory)
    _settle()


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for part in ("keys", "schedules"):
        changed[part] = {"gone": set(before[part]) - set(after[part]), "new": set(after[part]) - set(before[part])}
    for table, items in before["tables"].items():
        changed[table] = {
            "gone": set(items) - set(after["tables"][table]),
            "new": set(after["tables"][table]) - set(items),
        }
    return changed


def _restore_seeds(seeded: dict[str, str], tmp_path_factory) -> None:
    """A case that deleted a seeded record: make it again, so that later cases still reach real ids."""
    from shiftwork.errors import NotFound
    from shiftwork.store import definitions, jobs

    folder = tmp_path_factory.mktemp("fuzz-reseed")
    try:
        jobs.get(seeded["job_id"])
    except NotFound:
        _seed_job(folder, seeded["job_id"])
    try:
        definitions.get(seeded["definition_id"])
    except NotFound:
        _seed_definition(folder)
