"""The REST API over a real socket on 127.0.0.1: the HTTP adapter -> API Gateway v2 events -> functions.api."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import nbformat
import pytest

from tests.functional.conftest import wait_for


def call(api, method, path, body=None, token=True):
    request = urllib.request.Request(
        api.url + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {api.token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("n = 1")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell, nbformat.v4.new_code_cell("print('api', n * 2)")]
    return json.loads(nbformat.writes(notebook))


def test_no_token_no_entry(api):
    assert call(api, "GET", "/jobs", token=False)[0] == 401


def test_a_job_through_the_api(api):
    status, job = call(
        api,
        "POST",
        "/jobs",
        {
            "input_filename": "api.ipynb",
            "input_notebook": _notebook(),
            "parameters": {"n": 21},
            "output_formats": ["html"],
        },
    )
    assert status == 200, job
    assert job["status"] == "CREATED" and job["parameters"] == {"n": 21}
    done = wait_for(
        lambda: (j := call(api, "GET", f"/jobs/{job['job_id']}")[1])["status"] in ("COMPLETED", "FAILED") and j,
        timeout=90,
    )
    assert done["status"] == "COMPLETED", done["status_message"]
    status, page = call(api, "GET", "/jobs?status=COMPLETED&max_items=500")
    assert job["job_id"] in [j["job_id"] for j in page["jobs"]]
    status, urls = call(api, "GET", f"/jobs/{job['job_id']}/download_urls")
    by_format = {u["file_format"]: u["url"] for u in urls["urls"]}
    with urllib.request.urlopen(by_format["ipynb"], timeout=30) as response:  # presigned, straight from S3
        assert "api 42" in response.read().decode()
    events = wait_for(lambda: call(api, "GET", f"/jobs/{job['job_id']}/logs")[1]["events"])
    assert any("api 42" in e["message"] for e in events)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", "/jobs", {"input_filename": "x.ipynb", "input_notebook": {"cells": "no"}}, 400, "notebook"),
        (
            "POST",
            "/jobs",
            {"input_filename": "x.ipynb", "input_notebook": {}, "parameters": {"2x": 1}},
            400,
            "parameter name '2x'",
        ),
        (
            "POST",
            "/jobs",
            {"input_filename": "x.ipynb", "input_notebook": {}, "output_formats": ["docx"]},
            400,
            "output format 'docx' is unknown",
        ),
        ("POST", "/jobs", {"input_notebook": {}}, 422, "input_filename"),
        ("GET", "/jobs?status=sleeping", None, 400, "status 'sleeping'"),
        ("GET", "/jobs?next_token=garbage", None, 400, "next_token"),
        ("GET", "/jobs/00000000-0000-4000-8000-000000000000", None, 404, "not found"),
        ("GET", "/job_definitions/nope", None, 404, "not found"),
        ("POST", "/jobs/00000000-0000-4000-8000-000000000000/stop", None, 404, "not found"),
    ],
)
def test_bad_requests_are_4xx_naming_the_field(api, method, path, body, status, says):
    got, error = call(api, method, path, body)
    assert got == status, error
    assert says in error["message"]


def test_openapi_environments_and_config(api):
    status, document = call(api, "GET", "/openapi.json")
    assert status == 200
    assert {"/jobs", "/jobs/{job_id}", "/job_definitions", "/runtime_environments"} <= set(document["paths"])
    status, environments = call(api, "GET", "/runtime_environments")
    assert "python3" in [e["name"] for e in environments]
    assert call(api, "GET", "/config")[1]["bucket"] == "shiftwork-data"
