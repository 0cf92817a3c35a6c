"""Worksheet calls through the local add-in server against the same Python function called in-process.

`shiftwork excel serve`'s server (ExcelServer: HTTPS with the development certificate, as `excel serve` serves it,
and plain HTTP as `--http` does) over examples/pricer.py, no stack (PRICER.* needs none). In one run:
1. one cell's round trip: CALLS sequential POST /excel/call requests of one call each over ONE keep-alive
   connection, p50 and p99; and, for information, a cold connection (a new TCP connection, and TLS handshake, per
   call);
2. a batch of 1,000 cells (different inputs) in one request, the median of BATCHES;
3. the baseline: price_option called in-process, once per cell, as many times; and the protocol in-process
   (Registry + call_batch: argument and result conversion, no HTTP), to tell the server's cost from the protocol's.
Prints the ratios (round trip / in-process call, batch / 1,000 in-process calls) and PASS/FAIL against the targets:
p50 of one call under 20 ms, 1,000 cells under 0.5 s.

    python bench/excel_calls.py [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
PRICER = ROOT / "examples" / "pricer.py"
BATCH = 1000
TARGET_CALL_MS = 20.0
TARGET_BATCH_MS = 500.0


def cells(count: int) -> list[list[float]]:
    """count different options: spot, strike, vol, rate, expiry."""
    return [[80.0 + (i % 40), 95.0, 0.1 + (i % 7) / 20, 0.01, 0.25 + (i % 8) / 4] for i in range(count)]


def body(rows: list[list[float]]) -> bytes:
    return json.dumps({"calls": [{"function": "PRICER.PRICE_OPTION", "args": row} for row in rows]}).encode()


class Connection:
    """One client connection, kept open between calls as the Office.js runtime or xlwings keeps one; a response
    with `Connection: close` makes http.client open a new one (TCP and TLS again) for the next call: counted."""

    def __init__(self, url: str, token: str, context: ssl.SSLContext | None) -> None:
        scheme, _, rest = url.partition("://")
        host, _, port = rest.partition(":")
        if scheme == "https":
            self.http: http.client.HTTPConnection = http.client.HTTPSConnection(host, int(port), context=context)
        else:
            self.http = http.client.HTTPConnection(host, int(port))
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.closed_by_server = 0

    def post(self, payload: bytes) -> list[dict[str, Any]]:
        self.http.request("POST", "/excel/call", body=payload, headers=self.headers)
        response = self.http.getresponse()
        data = response.read()
        if (response.getheader("Connection") or "").lower() == "close":
            self.closed_by_server += 1
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        results = json.loads(data)["results"]
        failed = [r["error"] for r in results if r["error"]]
        if failed:
            raise RuntimeError(f"{len(failed)} cells failed, the first: {failed[0]}")
        return results

    def close(self) -> None:
        self.http.close()


def timed_ms(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def round_trips(connect: Callable[[], Connection], count: int, cold: bool) -> tuple[list[float], int]:
    """Milliseconds of each single-call request, and how many the server closed the connection after; warm: one
    client connection for all (after one untimed call), cold: a new one for each."""
    payloads = [body([row]) for row in cells(count)]
    samples = []
    connection = connect()
    connection.post(payloads[0])  # the handshake and the first request's setup are not a cell's round trip
    connection.closed_by_server = 0
    for payload in payloads:
        if cold:
            connection.close()
            connection = connect()
        samples.append(timed_ms(lambda c=connection, p=payload: c.post(p)))  # type: ignore[misc]
    closed = connection.closed_by_server
    connection.close()
    return samples, closed


def batches(connect: Callable[[], Connection], repeats: int) -> list[float]:
    payload = body(cells(BATCH))
    connection = connect()
    connection.post(payload)  # warm
    samples = [timed_ms(lambda: connection.post(payload)) for _ in range(repeats)]
    connection.close()
    return samples


def in_process(function: Callable[..., float], count: int, repeats: int) -> float:
    """Median milliseconds of calling function once per cell, count cells."""
    rows = cells(count)
    return statistics.median(timed_ms(lambda: [function(*row) for row in rows]) for _ in range(repeats))


def protocol_in_process(registry: Any, count: int, repeats: int) -> float:
    """Median milliseconds of the protocol without HTTP: the JSON body parsed, validated, called, dumped."""
    from shiftwork.excel.protocol import CallBatch, call_batch

    payload = body(cells(count))
    return statistics.median(
        timed_ms(lambda: call_batch(registry, CallBatch.model_validate_json(payload)).model_dump_json())
        for _ in range(repeats)
    )


def serve(registry: Any, state: Path, tls: bool) -> tuple[Any, Callable[[], Connection]]:
    """A started ExcelServer (HTTPS with the state directory's development certificate, or HTTP) and a connector."""
    from shiftwork.local.dev_certificate import dev_certificate
    from shiftwork.local.excel_server import ExcelServer, excel_token

    token = excel_token(state)
    certificate = dev_certificate(state) if tls else None
    server = ExcelServer(
        registry, token=token, tls=None if certificate is None else (certificate.certificate, certificate.key)
    ).start()
    context = ssl.create_default_context(cafile=str(certificate.ca)) if certificate is not None else None
    return server, lambda: Connection(server.url, token, context)


def serve_cheroot(registry: Any, state: Path) -> tuple[Any, Callable[[], Connection]]:
    """For comparison: ExcelServer's own WSGI app under cheroot (keep-alive HTTP/1.1, TLS), same certificate."""
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    from shiftwork.local.dev_certificate import dev_certificate
    from shiftwork.local.excel_server import ExcelServer, excel_token

    token = excel_token(state)
    certificate = dev_certificate(state)
    server = wsgi.Server(("127.0.0.1", 0), ExcelServer(registry, token=token), numthreads=4)
    server.ssl_adapter = BuiltinSSLAdapter(str(certificate.certificate), str(certificate.key))
    server.prepare()
    threading.Thread(target=server.serve, daemon=True, name="cheroot").start()
    context = ssl.create_default_context(cafile=str(certificate.ca))
    return server, lambda: Connection(f"https://localhost:{server.bind_addr[1]}", token, context)


def measure(started: tuple[Any, Callable[[], Connection]], calls: int, cold_calls: int, repeats: int) -> dict:
    server, connect = started
    try:
        warm, closed = round_trips(connect, calls, cold=False)
        cold, _ = round_trips(connect, cold_calls, cold=True)
        return {"warm": warm, "closed": closed, "cold": cold, "batch": batches(connect, repeats)}
    finally:
        server.stop()


def verdict(value: float, target: float) -> str:
    return "[green]PASS[/]" if value < target else "[red]FAIL[/]"


def report(console: Console, figures: dict[str, dict[str, Any]], one_ms: float, many_ms: float, protocol_ms: float):
    table = Table(title="PRICER.PRICE_OPTION through the local server against in-process (one run)")
    for column in ("measure", "server", "ms", "in-process ms", "ratio", "target", ""):
        table.add_column(column, justify="left" if column in ("measure", "server") else "right")
    table.add_row("price_option, 1 call", "in-process", f"{one_ms:.4f}", "", "", "", "")
    table.add_row(f"price_option, {BATCH:,} calls", "in-process", f"{many_ms:.3f}", "", "", "", "")
    table.add_row(
        f"protocol, {BATCH:,} cells (no HTTP)", "in-process", f"{protocol_ms:.1f}", f"{many_ms:.3f}",
        f"{protocol_ms / many_ms:,.0f}x", "", "",
    )  # fmt: skip
    for name, got in figures.items():
        p50, p99, cold = percentile(got["warm"], 0.5), percentile(got["warm"], 0.99), percentile(got["cold"], 0.5)
        batch = statistics.median(got["batch"])
        rows = [
            ("one cell, one connection: p50", p50, one_ms, f"< {TARGET_CALL_MS:g}", verdict(p50, TARGET_CALL_MS)),
            ("one cell, one connection: p99", p99, one_ms, "", ""),
            ("one cell, new connection per call: p50", cold, one_ms, "(info)", ""),
            (f"{BATCH:,} cells in one request: median", batch, many_ms, f"< {TARGET_BATCH_MS:g}",
             verdict(batch, TARGET_BATCH_MS)),
        ]  # fmt: skip
        table.add_section()
        for label, ms, baseline, target, passed in rows:
            table.add_row(label, name, f"{ms:.2f}", f"{baseline:.4f}", f"{ms / baseline:,.0f}x", target, passed)
        table.add_row("  per cell in the batch", name, f"{batch / BATCH:.3f}", f"{many_ms / BATCH:.5f}", "", "", "")
    console.print(table)
    for name, got in figures.items():
        console.print(
            f"{name}: the server closed the connection after {got['closed']} of {len(got['warm'])} calls"
            + (" (`Connection: close`: each call a new TCP connection, and TLS handshake)" if got["closed"] else "")
        )


def profile(registry: Any, console: Console) -> None:
    """Where a 1,000-cell batch's time goes in the server's WSGI app (in-process, no socket): cProfile."""
    import cProfile
    import pstats

    from werkzeug.test import Client

    from shiftwork.local.excel_server import ExcelServer

    client = Client(ExcelServer(registry, token="profile"))
    payload, headers = body(cells(BATCH)), {"Authorization": "Bearer profile", "Content-Type": "application/json"}
    client.post("/excel/call", data=payload, headers=headers)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        client.post("/excel/call", data=payload, headers=headers)
    profiler.disable()
    console.print(f"[bold]cProfile: 5 requests of {BATCH:,} cells through ExcelServer's WSGI app[/]")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 calls, 5 batches: a smoke run, not the figures")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="and where a batch's time goes (cProfile)")
    parser.add_argument("--cheroot", action="store_true", help="and the same app under cheroot (pip install cheroot)")
    args = parser.parse_args()
    calls, repeats = (100, 5) if args.quick else (args.calls, args.batches)
    cold_calls = max(20, calls // 10)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its line per request would be most of the output

    from shiftwork.excel.loading import addins_of, load_module
    from shiftwork.excel.protocol import Registry

    module = load_module(str(PRICER))
    registry = Registry(addins_of(module))  # PRICER.* only: no SHIFTWORK.*, no stack
    console = Console(width=132)  # the table's rows unwrapped, in a terminal or a log
    with tempfile.TemporaryDirectory() as scratch, console.status("measuring") as status:
        state = Path(scratch)
        servers: dict[str, Callable[[], tuple[Any, Callable[[], Connection]]]] = {
            "ExcelServer HTTPS": lambda: serve(registry, state, tls=True),
            "ExcelServer HTTP": lambda: serve(registry, state, tls=False),
        }
        if args.cheroot:
            servers["cheroot HTTPS (same app)"] = lambda: serve_cheroot(registry, state)
        figures = {}
        for name, start in servers.items():
            status.update(f"{name}: {calls} calls, {cold_calls} on new connections, {repeats} batches of {BATCH:,}")
            figures[name] = measure(start(), calls, cold_calls, repeats)
        status.update("in-process")
        one_ms = in_process(module.price_option, calls, repeats) / calls
        many_ms = in_process(module.price_option, BATCH, repeats * 10)
        protocol_ms = protocol_in_process(registry, BATCH, repeats)
    report(console, figures, one_ms, many_ms, protocol_ms)
    if args.profile:
        profile(registry, console)


if __name__ == "__main__":
    main()
