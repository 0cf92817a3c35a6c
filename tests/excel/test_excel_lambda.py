"""functions/excel.py, the add-in's Lambda, fed the API Gateway events in events/ (the module on its layer's path)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.excel.conftest import PRICER

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def handler(stack, monkeypatch):
    """functions.excel with SHIFTWORK_ADDIN_MODULE=pricer importable, as its layer makes it on AWS."""
    import functions.excel as excel

    monkeypatch.syspath_prepend(str(PRICER.parent))
    monkeypatch.setenv("SHIFTWORK_ADDIN_MODULE", "pricer")
    monkeypatch.setenv("SHIFTWORK_EXCEL_USER_POOL_ID", "eu-west-2_EXAMPLE")
    monkeypatch.setenv("SHIFTWORK_EXCEL_CLIENT_ID", "1example23456789")
    excel.app.cache_clear()
    yield excel
    excel.app.cache_clear()
    sys.modules.pop("pricer", None)


def invoke(handler, name: str, path: str | None = None):
    from shiftwork.local.lambdas import LocalContext

    event = json.loads((EVENTS / name).read_text())
    if path:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = "GET"
        event["body"] = None
    return handler.lambda_handler(event, LocalContext("shiftwork-excel"))


def test_the_lambda_answers_a_batch_of_cells(handler, pricer_module):
    from shiftwork.api.service import Service

    response = invoke(handler, "excel_call.json")
    assert response["statusCode"] == 200
    (price, grid, error, fires) = json.loads(response["body"])["results"]
    assert price["value"] == pricer_module.price_option(100, 95, 0.2, 0.01, 1)
    assert grid["value"][1][1] == pricer_module.price_option(120, 95, 0.2, 0.01, 1.0)
    assert error["error"] == {"code": "#VALUE!", "message": "spot is the text 'x': give a number"}
    expected = Service().preview_schedule("0 9 * * mon-fri", "Europe/London", 3).fires
    assert len(fires["value"]) == len(expected) == 3


def test_the_lambda_answers_a_stream_buffered_up_to_its_first_new_value(handler):
    started = time.monotonic()
    response = invoke(handler, "excel_stream.json")
    assert time.monotonic() - started < 10  # not the whole 25 s window: the first value ends a buffered response
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/event-stream")
    body = response["body"]
    assert body.startswith('data: {"value":100.0}')
    assert body.rstrip().endswith('data: {"reason": "window"}')


def test_the_sign_in_settings_name_the_stacks_pool(handler):
    response = invoke(handler, "excel_call.json", path="/excel/config")
    assert json.loads(response["body"]) == {
        "auth": "cognito",
        "region": "us-east-1",
        "user_pool_id": "eu-west-2_EXAMPLE",
        "client_id": "1example23456789",
        "api_url": None,
    }
