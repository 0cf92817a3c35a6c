"""The add-in's endpoints over real sockets on 127.0.0.1: batches, streams, refusals, the token, HTTPS."""

from __future__ import annotations

import http.client
import json
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import urllib3

from shiftwork.excel import Addin
from shiftwork.excel.protocol import Registry
from tests.excel.conftest import PRICER


def post(server, path: str, body, token: str | None = None, **headers):
    http_pool = urllib3.PoolManager(retries=False, timeout=30)
    return http_pool.request(
        "POST",
        server.url + path,
        body=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token or server.token}", "Content-Type": "application/json", **headers},
    )


def test_a_batch_answers_every_cell_in_order_each_with_its_value_or_its_error(excel_server, pricer_module):
    calls = [
        {"function": "PRICER.PRICE_OPTION", "args": [100, 95, 0.2, 0.01, 1]},
        {"function": "pricer.price_option", "args": [100, 95, 0.2, 0.01, 1, False]},  # any case, as Excel
        {"function": "PRICER.PRICE_OPTION", "args": ["x", 95, 0.2, 0.01, 1]},
        {"function": "PRICER.PRICE_OPTION", "args": [-1, 95, 0.2, 0.01, 1]},
        {"function": "PRICER.GRID", "args": [[[90, 100], [110, 120]], 95]},
        {"function": "PRICER.NOPE", "args": []},
        {"function": "PRICER.TICKER", "args": [100]},
    ]
    response = post(excel_server, "/excel/call", {"calls": calls})
    assert response.status == 200
    results = response.json()["results"]
    assert len(results) == len(calls)
    assert results[0] == {"value": pricer_module.price_option(100, 95, 0.2, 0.01, 1), "error": None}
    assert results[1]["value"] == pricer_module.price_option(100, 95, 0.2, 0.01, 1, False)
    assert results[2]["error"] == {"code": "#VALUE!", "message": "spot is the text 'x': give a number"}
    assert (
        results[3]["error"]["code"] == "#NUM!" and "spot and strike must be positive" in results[3]["error"]["message"]
    )
    assert results[4]["value"] == [
        [pricer_module.price_option(s, 95, 0.2, 0.01, 1.0) for s in row] for row in [[90, 100], [110, 120]]
    ]
    assert results[5]["error"]["code"] == "#NAME?" and "namespaces: PRICER, SHIFTWORK" in results[5]["error"]["message"]
    assert "streaming function: call it on /excel/stream" in results[6]["error"]["message"]


def test_an_exception_in_a_function_is_its_cells_message_never_a_traceback(tmp_path):
    from shiftwork.local.excel_server import ExcelServer

    addin = Addin("Faults", namespace="FAULTS")

    @addin.expose
    def divide(a: float, b: float) -> float:
        return a / b

    @addin.expose
    def broken() -> float:
        raise RuntimeError("the pricing curve is not loaded")

    server = ExcelServer(Registry([addin]), token="t").start()
    try:
        calls = [{"function": "FAULTS.DIVIDE", "args": [1, 0]}, {"function": "FAULTS.BROKEN", "args": []}]
        results = post(server, "/excel/call", {"calls": calls}).json()["results"]
    finally:
        server.stop()
    assert results[0]["error"] == {"code": "#DIV/0!", "message": "ZeroDivisionError: float division by zero"}
    assert results[1]["error"] == {"code": "#VALUE!", "message": "RuntimeError: the pricing curve is not loaded"}
    assert "Traceback" not in json.dumps(results)


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"calls": []}, 400, "calls", "at least 1 item"),
        ({"calls": [{"function": "", "args": []}]}, 400, "calls.0.function", "at least 1 character"),
        ({"calls": [{"function": "A.B", "args": [0] * 256}]}, 400, "calls.0.args", "at most 255"),
        ({"calls": [{"function": "A.B"}] * 10_001}, 400, "calls", "at most 10000"),
        ({"cells": []}, 422, "calls", "Field required"),
        (b"{not json", 400, "body", "not valid JSON"),
    ],
)
def test_a_request_that_is_not_a_batch_is_a_4xx_naming_the_field(excel_server, body, status, field, words):
    response = post(excel_server, "/excel/call", body)
    assert response.status == status
    refusal = response.json()
    assert refusal["field"] == field
    assert words in refusal["message"]


def test_the_token_is_required_except_for_the_sign_in_settings_and_the_document(excel_server):
    pool = urllib3.PoolManager(retries=False)
    for method, path in (("GET", "/excel/functions"), ("POST", "/excel/call"), ("POST", "/excel/stream")):
        refused = pool.request(method, excel_server.url + path, headers={"Authorization": "Bearer wrong"})
        assert refused.status == 401, path
        assert "the token `shiftwork excel serve` printed" in refused.json()["message"]
    assert pool.request("GET", excel_server.url + "/excel/config").json()["auth"] == "token"
    document = pool.request("GET", excel_server.url + "/excel/openapi.json").json()
    assert {"/excel/call", "/excel/stream", "/excel/functions"} <= set(document["paths"])


def test_functions_describe_both_add_ins_for_the_clients(excel_server):
    pool = urllib3.PoolManager(retries=False)
    described = pool.request(
        "GET", excel_server.url + "/excel/functions", headers={"Authorization": f"Bearer {excel_server.token}"}
    ).json()
    by_namespace = {addin["namespace"]: addin for addin in described["addins"]}
    assert set(by_namespace) == {"PRICER", "SHIFTWORK"}
    price = next(f for f in by_namespace["PRICER"]["functions"] if f["name"] == "PRICE_OPTION")
    assert price["description"] == "Black-Scholes price of a European option"
    assert [p["name"] for p in price["parameters"]] == ["spot", "strike", "vol", "rate", "expiry", "call"]
    assert price["parameters"][-1]["optional"] and price["parameters"][-1]["type"] == "boolean"
    grid = next(f for f in by_namespace["PRICER"]["functions"] if f["name"] == "GRID")
    assert grid["parameters"][0]["dimensionality"] == "matrix" and grid["result"]["dimensionality"] == "matrix"
    shiftwork = {f["name"]: f for f in by_namespace["SHIFTWORK"]["functions"]}
    assert set(shiftwork) == {"RUN", "STATUS", "RESULT", "JOBS", "NEXT_FIRES"}
    assert shiftwork["STATUS"]["streaming"] and shiftwork["RUN"]["parameters"][1]["repeating"]


def _events(raw: bytes) -> list[dict]:
    events = []
    for block in raw.decode().split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        if not lines:
            continue
        kind = next((line[7:] for line in lines if line.startswith("event: ")), "message")
        data = json.loads(next(line[6:] for line in lines if line.startswith("data: ")))
        events.append({"event": kind, **data})
    return events


def test_a_stream_sends_values_as_they_come_until_the_function_ends(excel_server):
    addin_values = post(excel_server, "/excel/stream", {"function": "SHIFTWORK.NEXT_FIRES", "args": ["rate(1 hour)"]})
    assert addin_values.status == 200  # a function that does not stream: its error, as an event
    (error, end) = _events(addin_values.data)
    assert "is not streaming: call it on /excel/call" in error["error"]["message"] and end["reason"] == "error"


def test_a_cancelled_stream_stops_the_function_and_a_window_end_resumes_after_last(tmp_path):
    """The client reads three values and closes the connection: the generator is closed (its finally runs)."""
    from shiftwork.local.excel_server import ExcelServer

    closed = threading.Event()
    produced: list[int] = []
    addin = Addin("Live", namespace="LIVE")

    @addin.expose
    def counter(start: int):
        try:
            value = start
            while True:
                produced.append(value)
                yield value
                value += 1
                time.sleep(0.05)
        finally:
            closed.set()

    server = ExcelServer(Registry([addin]), token="t").start()
    try:
        host = urlsplit(server.url)
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
        body = json.dumps({"function": "LIVE.COUNTER", "args": [1]})
        connection.request(
            "POST", "/excel/stream", body, {"Authorization": "Bearer t", "Content-Type": "application/json"}
        )
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Content-Type").startswith("text/event-stream")
        seen = []
        while len(seen) < 3:
            line = response.fp.readline().decode()
            if line.startswith("data: "):
                seen.append(json.loads(line[6:])["value"])
        response.close()  # Excel's cell was cleared: the request is aborted
        connection.close()
        assert seen == [[[1]], [[2]], [[3]]]
        assert closed.wait(10), "the generator was not closed after the client went away"
        count = len(produced)
        time.sleep(0.3)
        assert len(produced) == count  # nothing runs for a gone client

        # a window that ends is resumed by the client with the value it shows: that value is not sent again
        again = post(
            server,
            "/excel/stream",
            {"function": "LIVE.COUNTER", "args": [7], "last": [[7]], "window_seconds": 0.3},
            token="t",
        )
        events = _events(again.data)
        values = [e["value"] for e in events if "value" in e]
        assert values and values[0] == [[8]]
        assert events[-1] == {"event": "end", "reason": "window"}
    finally:
        server.stop()


def test_https_with_the_development_certificate_and_one_connection_for_many_calls(tmp_path, excel_registry):
    from shiftwork.local.dev_certificate import dev_certificate
    from shiftwork.local.excel_server import ExcelServer

    certificate = dev_certificate(tmp_path)
    again = dev_certificate(tmp_path)
    assert again.certificate.read_bytes() == certificate.certificate.read_bytes()  # kept, not remade each serve
    assert oct(certificate.key.stat().st_mode & 0o777) == "0o600"
    server = ExcelServer(excel_registry, token="t", tls=(certificate.certificate, certificate.key)).start()
    try:
        assert server.url.startswith("https://localhost:")
        trusted = ssl.create_default_context(cafile=str(certificate.ca))
        connection = http.client.HTTPSConnection("localhost", server.port, context=trusted, timeout=10)
        body = json.dumps({"calls": [{"function": "PRICER.PRICE_OPTION", "args": [100, 95, 0.2, 0.01, 1]}]})
        opened = None
        for _ in range(5):
            connection.request(
                "POST", "/excel/call", body, {"Authorization": "Bearer t", "Content-Type": "application/json"}
            )
            response = connection.getresponse()
            assert response.status == 200 and json.loads(response.read())["results"][0]["error"] is None
            assert response.getheader("Connection", "").lower() != "close"
            opened = opened or connection.sock
            assert connection.sock is opened  # the same socket (held, so not a new one at the same address)
        connection.close()
        untrusted = http.client.HTTPSConnection(
            "localhost", server.port, context=ssl.create_default_context(), timeout=10
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusted.request("GET", "/excel/config")
    finally:
        server.stop()


def test_the_module_is_refused_clearly_when_it_defines_no_addin(tmp_path):
    from shiftwork.errors import InvalidSpec
    from shiftwork.excel.loading import load_addins

    (tmp_path / "empty_module.py").write_text("x = 1\n")
    with pytest.raises(InvalidSpec, match="defines no Addin: add `addin = Addin"):
        load_addins(str(tmp_path / "empty_module.py"))
    with pytest.raises(InvalidSpec, match="no such file"):
        load_addins(str(tmp_path / "missing.py"))
    assert PRICER.exists()


def test_many_streaming_cells_share_one_connection_each_event_naming_its_cell(excel_server):
    """Browsers keep ~6 connections to a server: every streaming cell of a sheet rides on one request."""
    cells = [{"id": f"B{row}", "function": "PRICER.TICKER", "args": [100 + row, 0.2, 0.02]} for row in range(1, 9)] + [
        {"id": "C1", "function": "PRICER.NOPE", "args": []},
        {"id": "C2", "function": "PRICER.PRICE_OPTION", "args": [1, 1, 1, 1, 1]},
    ]
    response = post(excel_server, "/excel/streams", {"streams": cells, "window_seconds": 1.0})
    assert response.status == 200
    events = _events(response.data)
    values: dict[str, list] = {}
    for event in events:
        if "value" in event:
            values.setdefault(event["id"], []).append(event["value"])
    assert set(values) == {f"B{row}" for row in range(1, 9)}
    assert all(series[0] == 100 + int(cell[1:]) and len(series) >= 3 for cell, series in values.items())
    errors = {event["id"]: event["error"] for event in events if "error" in event}
    assert errors["C1"]["code"] == "#NAME?" and "is not streaming" in errors["C2"]["message"]
    done = {event["id"]: event["reason"] for event in events if event["event"] == "done"}
    assert done == {"C1": "error", "C2": "error"}  # the tickers run on: the window ends the response
    assert events[-1] == {"event": "end", "reason": "window"}


def test_a_stream_batch_with_one_id_twice_is_refused_naming_it(excel_server):
    twice = [{"id": "A1", "function": "PRICER.TICKER", "args": [1]}] * 2
    response = post(excel_server, "/excel/streams", {"streams": twice})
    assert response.status == 400
    assert response.json()["field"] == "streams"
    assert "id 'A1' is given twice: give each cell its own" in response.json()["message"]


def test_a_module_that_fails_to_import_is_not_left_half_imported(tmp_path):
    from shiftwork.excel.loading import load_addins

    (tmp_path / "half_made.py").write_text("import not_installed_anywhere\n")
    with pytest.raises(ModuleNotFoundError):
        load_addins(str(tmp_path / "half_made.py"))
    assert "half_made" not in sys.modules
