"""Bad input over HTTP is a 4xx naming the field, the value (shortened) and the fix, and writes nothing: no record,
no S3 key, no schedule. Each case here once answered 500 or left half a change behind."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import nbformat
import pytest


def send(api, method, path, data: bytes | None = None, content_type="application/json"):
    request = urllib.request.Request(api.url + path, method=method, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    request.add_header("Authorization", f"Bearer {api.token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), dict(error.headers)


def call(api, method, path, body=None):
    status, payload, _ = send(api, method, path, None if body is None else json.dumps(body).encode())
    return status, payload


def _notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    return json.loads(nbformat.writes(notebook))


def state():
    """Both tables, the bucket's keys and the schedules: what a refusal must leave as it was."""
    from shiftwork import aws
    from shiftwork.config import get_settings

    settings = get_settings()
    dynamodb = aws.client("dynamodb", settings)
    items = {
        table: sorted(json.dumps(item, sort_keys=True) for item in dynamodb.scan(TableName=table)["Items"])
        for table in (settings.jobs_table, settings.definitions_table)
    }
    s3 = aws.client("s3", settings)
    keys = sorted(
        o["Key"]
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket)
        for o in p.get("Contents", [])
    )
    scheduler = aws.client("scheduler", settings)
    schedules = sorted(s["Name"] for s in scheduler.list_schedules(GroupName=settings.schedule_group)["Schedules"])
    return items, keys, schedules


def settled_state(timeout: float = 10):
    """state() once two reads agree: the "before" a refusal is compared with (jobs other tests started may still
    be finishing, and archiving their logs, in the background)."""
    import time

    deadline = time.monotonic() + timeout
    previous = state()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        current = state()
        if current == previous:
            return current
        previous = current
    return previous


def _definition(**fields):
    return {"input_filename": "limits.ipynb", "input_notebook": _notebook(), **fields}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"input_filename": "big.ipynb", "input_notebook": {}, "name": "n" * 1_000_000}, "name", "at most 256"),
        (_definition(name="d" * 1_000_000), "name", "at most 256"),
        (_definition(schedule="rate(1000000000000 days)"), "schedule", "longer than 3660 days"),
        (_definition(job_definition_id="../../etc/passwd"), "job_definition_id", "pattern"),
        (_definition(job_definition_id="a" * 61), "job_definition_id", "at most 48"),
        (_definition(schedule='{"type": "interval", "hours": "soon"}'), "schedule", "cannot be read"),
        (_definition(schedule='{"type": "calendarinterval", "days": 1, "hour": 99}'), "schedule", "hour must be"),
        (_definition(timeout_seconds=1e-200), "timeout_seconds", "greater than or equal to 1"),
        (_definition(parameters={"blob": "x" * 70_000}), "parameters", "64 KiB"),
        (_definition(parameters={"class": 1}), "parameter name", "parameter name 'class'"),
        (_definition(input_files={"../up.txt": "eA=="}), "input_files", "stays inside its folder"),
        (_definition(input_files={"a": "eA==", "a/b": "eA=="}), "input_files", "a file or a folder"),
        (_definition(input_filename="\x00.ipynb"), "input_filename", "pattern"),
    ],
    ids=lambda value: "" if isinstance(value, dict) else str(value),
)
def test_a_refused_value_names_itself_and_writes_nothing(api, body, field, says):
    path = "/jobs" if "input_notebook" in body and body["input_notebook"] == {} else "/job_definitions"
    before = settled_state()
    status, error = call(api, "POST", path, body)
    assert status == 400, error
    assert error["field"] == field and says in error["message"], error
    assert len(error["message"]) < 400 and (error["value"] is None or len(str(error["value"])) <= 41), error
    assert state() == before


def test_a_body_that_is_not_utf8_is_400_and_writes_nothing(api):
    before = settled_state()
    status, error, _ = send(api, "POST", "/job_definitions", b'{"name": "\xff\xfe"}')
    assert status == 400 and error["field"] == "body" and "not UTF-8" in error["message"], error
    assert state() == before


@pytest.mark.parametrize(
    ("content_type", "status", "says"),
    [
        ("multipart/form-data", 415, "application/json"),  # no boundary: Powertools raised ValueError (500)
        ("multipart/form-data; boundary=x", 415, "application/json"),
        ("text/plain", 415, "application/json"),
        ("application/json; charset=latin-1", 415, "UTF-8"),
        ("application/json", 400, "not valid JSON"),
    ],
)
def test_a_body_of_the_wrong_kind_is_refused(api, content_type, status, says):
    before = settled_state()
    got, error, _ = send(api, "POST", "/jobs", b"--x\r\nname=1", content_type)
    assert got == status and says in error["message"], error
    assert state() == before


def test_deeply_nested_json_and_oversize_bodies_are_refused(api):
    status, error, _ = send(api, "POST", "/jobs", b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and "nested" in error["message"], error
    status, error, _ = send(api, "POST", "/jobs", b'"' + b"x" * (7 << 20) + b'"')
    assert status == 413 and "6 MiB" in error["message"], error


def test_unknown_routes_are_404_and_wrong_methods_405(api):
    status, error = call(api, "GET", "/nowhere")
    assert status == 404 and "/nowhere" in error["message"]
    status, error, headers = send(api, "PUT", "/jobs", b"{}")
    assert status == 405 and "GET, POST" in error["message"] and headers["Allow"] == "GET, POST"


def test_a_malformed_logs_token_is_400(api, make_job):
    from shiftwork import aws
    from shiftwork.config import get_settings
    from shiftwork.store import jobs

    settings = get_settings()
    job = make_job()
    logs = aws.client("logs", settings)
    stream = f"fuzz/{job.job_id}"
    logs.create_log_stream(logGroupName=settings.log_group, logStreamName=stream)
    jobs.update(job.job_id, [job.status], log_stream=stream)
    status, error = call(api, "GET", f"/jobs/{job.job_id}/logs?next_token=not-a-token")
    assert status == 400 and error["field"] == "next_token", error


def test_an_error_never_shows_the_scratch_folder(api):
    broken = {"input_filename": "broken.ipynb", "input_notebook": {"cells": "no"}}
    status, error = call(api, "POST", "/jobs", broken)
    assert status == 400 and "broken.ipynb" in error["message"], error
    assert "/tmp" not in json.dumps(error) and "shiftwork-inline" not in json.dumps(error)


def test_a_definition_whose_schedules_fail_leaves_nothing_behind(stack, tmp_path):
    """The schedules step fails (its group does not exist): the record and the snapshot are undone."""
    from dataclasses import replace

    from shiftwork.api.service import Service
    from shiftwork.errors import NotFound
    from shiftwork.models import CreateJobDefinition, UpdateJobDefinition
    from shiftwork.store import definitions, files
    from tests.helpers import write_notebook

    service = Service()
    broken = Service(replace(service.settings, schedule_group="no-such-group"))
    notebook = write_notebook(tmp_path / "undo.ipynb", "x = 1")
    definition_id = f"undo-{uuid.uuid4().hex[:8]}"
    request = CreateJobDefinition(input_uri=str(notebook), schedule="0 9 * * *")
    before = settled_state()
    with pytest.raises(Exception, match="CreateSchedule"):
        broken.definitions.create(request, definition_id)
    assert state() == before
    with pytest.raises(NotFound):
        definitions.get(definition_id)

    made = service.definitions.create(CreateJobDefinition(input_uri=str(notebook)), definition_id)
    before = settled_state()
    with pytest.raises(Exception, match="CreateSchedule"):
        broken.definitions.update(definition_id, UpdateJobDefinition(schedule="0 9 * * *", input_uri=str(notebook)))
    assert definitions.get(definition_id) == made  # version 1 as it was
    assert not list(files.iter_keys(f"definitions/{definition_id}/v2/"))
    assert state() == before
    service.definitions.delete(definition_id)


def test_the_openapi_document_types_every_response(api):
    status, document = call(api, "GET", "/openapi.json")
    assert status == 200

    def schema_of(path, method, code):
        return document["paths"][path][method]["responses"][str(code)]["content"]["application/json"]["schema"]

    assert schema_of("/jobs/{job_id}", "get", 200)["$ref"].endswith("/DescribeJob")
    assert schema_of("/jobs", "get", 200)["$ref"].endswith("/ListJobsResponse")
    assert schema_of("/jobs", "post", 200)["$ref"].endswith("/DescribeJob")
    assert schema_of("/job_definitions/{definition_id}", "get", 200)["$ref"].endswith("/DescribeJobDefinition")
    assert schema_of("/job_definitions", "get", 200)["$ref"].endswith("/ListJobDefinitionsResponse")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code in ("400", "404", "413", "415", "422"):
                assert operation["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorBody"
                ), (method, path, code)
            assert operation["responses"]["200"]["content"]["application/json"]["schema"], (method, path)
    name = document["components"]["schemas"]["CreateJobRequest"]["properties"]["name"]
    assert name["anyOf"][0]["maxLength"] == 256  # the limits show in the document


def test_a_losing_duplicate_never_undoes_the_winners_snapshot(service, tmp_path):
    """Duplicates of one idempotency token race: whichever writes the record, its snapshot stays and it runs."""
    import threading

    from shiftwork.models import CreateJob
    from shiftwork.store import files
    from tests.functional.conftest import wait_for
    from tests.helpers import write_notebook

    notebook = write_notebook(tmp_path / "race.ipynb", "x = 1", "print('raced', x)")
    token = f"race-{uuid.uuid4()}"
    barrier = threading.Barrier(6)
    outcomes: list[object] = []

    def create() -> None:
        barrier.wait()
        try:
            outcomes.append(service.create_job(CreateJob(input_uri=str(notebook), idempotency_token=token)).job_id)
        except Exception as error:  # noqa: BLE001 - a duplicate may be refused; what matters is what stays
            outcomes.append(error)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = {outcome for outcome in outcomes if isinstance(outcome, str)}
    assert len(made) == 1, outcomes
    job_id = made.pop()
    snapshot = service.get_job(job_id).input_prefix  # each racer uploads under its own prefix: the winner's
    assert set(files.iter_keys(files.input_prefix(job_id))) == {snapshot + "race.ipynb"}
    done = wait_for(lambda: (j := service.get_job(job_id)).is_terminal and j, timeout=90)
    assert done.status.value == "COMPLETED", done.status_message


@pytest.mark.parametrize("identifier", ["", "x" * 3000])
def test_ids_dynamodb_cannot_hold_are_simply_not_found(service, identifier):
    """The CLI passes ids as typed: an empty or huge one is NotFound, not DynamoDB's ValidationException."""
    from shiftwork.errors import NotFound

    for lookup in (service.get_job, service.stop_job, service.delete_job, service.definitions.get):
        with pytest.raises(NotFound) as missing:
            lookup(identifier)
        assert len(str(missing.value)) < 120
    with pytest.raises(NotFound):
        service.update_job(identifier, name="renamed")
