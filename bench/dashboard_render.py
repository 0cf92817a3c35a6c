"""Dashboard render: the Jobs page's first render with 10,000 jobs in the store, against a bare st.dataframe.

An embedded stack (moto server, no job runner) gets JOBS job records, batch-written through the store (SKIPPED
ones among them, hidden by default). Each render is a fresh AppTest of dashboard/app.py (whose default page is
Jobs) with Streamlit's caches cleared, timed around AppTest.run(); the figure is the median of RUNS (default 5).
The baseline is a bare Streamlit script rendering the same page of rows (read from a pickle) with st.dataframe,
run the same way. Every request the moto server answers during a render is counted by action (wrapping the
server's WSGI app in this process): one page is a small constant number of DynamoDB Queries, however many jobs
the store holds, and never a Scan; the counts are also taken at SMALL jobs to show they do not grow.
Target: the Jobs page under 1.5 s.

    python bench/dashboard_render.py [--jobs N] [--runs N]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
TARGET_SECONDS = 1.5
SMALL = 1_000
DAY_MS = 86_400_000
SERVICES = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs", "Logs_20140328": "logs"}
BARE = """
import pandas as pd
import streamlit as st

st.title("Jobs")
st.dataframe(pd.read_pickle({path!r}), hide_index=True, width="stretch")
"""


class RequestCounter:
    """Requests the embedded moto server answers while counting is on, by service and action."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.on = False
        self.server_seconds = 0.0  # the time moto's server spent answering them
        self._lock = threading.Lock()

    def install(self) -> None:
        from shiftwork.local.server import JournalingApp

        original, counter = JournalingApp.__call__, self

        def counted(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(app, environ, start_response)  # moto answers with the whole body
            finally:
                counter.record(environ, time.perf_counter() - started)

        JournalingApp.__call__ = counted

    def record(self, environ: dict[str, Any], seconds: float) -> None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        prefix, _, action = target.partition(".")
        name = f"{SERVICES.get(prefix, prefix)} {action}" if target else f"s3 {environ.get('REQUEST_METHOD')}"
        with self._lock:
            if self.on:
                self.counts[name] += 1
                self.server_seconds += seconds

    def during(self, work: Callable[[], Any]) -> Counter[str]:
        with self._lock:
            self.counts, self.on, self.server_seconds = Counter(), True, 0.0
        try:
            work()
        finally:
            with self._lock:
                self.on = False
        return self.counts


def seed(count: int, start: int) -> None:
    """`count` finished job records (one in ten SKIPPED), written 25 to a request through the store's model."""
    from shiftwork.models import Status
    from shiftwork.store.jobs import draft
    from shiftwork.store.tables import JobRecord, bound

    table = bound(JobRecord)
    statuses = [Status.COMPLETED] * 7 + [Status.FAILED, Status.STOPPED, Status.SKIPPED]
    now = int(time.time() * 1000)
    with table.batch_write() as batch:
        for index in range(start, start + count):
            job_id = str(uuid.uuid4())
            created = now - 30 * DAY_MS + index * 200_000
            status = statuses[index % len(statuses)]
            job = draft(
                job_id,
                name=f"report-{index:05}",
                status=status,
                input_filename="report.ipynb",
                output_formats=["ipynb", "html"],
                tags=["bench", f"team-{index % 7}"],
                job_definition_id=f"def-{index % 12}",
                start_time=None if status == Status.SKIPPED else created + 1_000,
                end_time=created + 1_000 + (index % 300) * 1_000,
            ).model_copy(update={"create_time": created, "update_time": created})
            batch.save(table(**job.model_dump(exclude_none=True, mode="json")))


def render(script: Path, counter: RequestCounter) -> tuple[float, float, Counter[str], Any]:
    """A fresh AppTest of `script` with Streamlit's caches cleared: its first run's seconds, the seconds moto's
    server spent answering it, and its requests."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(script), default_timeout=120)
    timing: dict[str, float] = {}

    def run() -> None:
        started = time.perf_counter()
        app.run()
        timing["seconds"] = time.perf_counter() - started

    counts = counter.during(run)
    if app.exception:
        raise RuntimeError(f"{script.name} raised: {app.exception[0].message}")
    return timing["seconds"], counter.server_seconds, counts, app


def measure(script: Path, runs: int, counter: RequestCounter) -> tuple[list[float], list[float], Counter[str], Any]:
    """Wall seconds and moto's seconds of `runs` first renders (after a warm-up), the last one's requests and app."""
    render(script, counter)  # warm-up: imports, the first compile of the pages
    walls, servers, counts, app = [], [], Counter[str](), None
    for _ in range(runs):
        wall, server, counts, app = render(script, counter)
        walls.append(wall)
        servers.append(server)
    return walls, servers, counts, app


def report(figures: dict[str, Any], jobs: int, runs: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"First render of the Jobs page, {jobs:,} jobs in the store (median of {runs})")
    columns = ("script", "median s", "min s", "max s", "moto answering s", "without moto s", "rows")
    for column in columns:
        table.add_column(column, justify="right" if column != "script" else "left")
    medians = {}
    for name in ("jobs page", "bare st.dataframe"):
        walls, servers, rows = figures[name]
        own = statistics.median(w - s for w, s in zip(walls, servers, strict=True))
        medians[name] = (statistics.median(walls), own)
        cells = (statistics.median(walls), min(walls), max(walls), statistics.median(servers), own)
        table.add_row(name, *(f"{value:.3f}" for value in cells), rows)
    console = Console()
    console.print(table)
    (page, page_own), (bare, _) = medians["jobs page"], medians["bare st.dataframe"]
    for label, value in (("wall", page), ("without moto's answering time", page_own)):
        verdict = "under" if value < TARGET_SECONDS else "OVER"
        ratio = value / bare
        console.print(f"jobs page / bare st.dataframe ({label}): {ratio:.2f}x; {value:.3f} s, {verdict} the target")
    for label, counts in figures["requests"].items():
        queries, scans = counts.get("dynamodb Query", 0), counts.get("dynamodb Scan", 0)
        every = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
        console.print(f"requests in one render with {label}: DynamoDB Query {queries}, Scan {scans} ({every})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.pop("SHIFTWORK_API_URL", None)  # the pages over the library's Service, on the stack below
    sys.path.insert(0, str(ROOT))
    from shiftwork.local.stack import EmbeddedStack

    counter = RequestCounter()
    counter.install()
    with tempfile.TemporaryDirectory(prefix="shiftwork-bench-") as state:
        stack = EmbeddedStack(Path(state), run_jobs=False).start()
        try:
            small = min(SMALL, args.jobs)
            seed(small, 0)
            requests = {f"{small:,} jobs": render(APP, counter)[2]}
            started = time.perf_counter()
            seed(args.jobs - small, small)
            print(f"seeded {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s")
            page_walls, page_servers, counts, app = measure(APP, args.runs, counter)
            requests[f"{args.jobs:,} jobs"] = counts
            rows = app.dataframe[0].value
            pickled = Path(state) / "rows.pkl"
            rows.to_pickle(pickled)
            bare = Path(state) / "bare.py"
            bare.write_text(BARE.format(path=str(pickled)))
            bare_walls, bare_servers, _, bare_app = measure(bare, args.runs, counter)
            figures = {
                "jobs page": (page_walls, page_servers, str(len(rows))),
                "bare st.dataframe": (bare_walls, bare_servers, str(len(bare_app.dataframe[0].value))),
                "requests": requests,
            }
            report(figures, args.jobs, args.runs)
        finally:
            stack.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
