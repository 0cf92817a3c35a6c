"""Cold start: import time of each Lambda handler module against `import boto3` alone; then import + first call.

Each import runs in a fresh interpreter with `python -X importtime`; the figure is the cumulative time of the
top-level import, median of RUNS (default 7). Target: 1.5x boto3 or less. Also checks that the dispatch path
never imports papermill, nbconvert, pandas or streamlit.

An import figure alone would reward moving work into the first call, which a Lambda's cold start pays for too.
So a second table (skip it with --import-only) times, in fresh interpreters, the import and the first call of
each handler on a real event from events/ against a moto server (a new job each time, so the call does the whole
work: DynamoDB writes, ECS run_task, S3 copy), against a minimal handler: import boto3, make a DynamoDB client
and read one item. The figure is the handler process's CPU time: our own work, without the time moto (in this
process) takes to answer, which says nothing about AWS's, and less disturbed by other load on the machine.

    python bench/cold_start.py [--runs N] [--import-only]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import track
from rich.table import Table

HANDLERS = ["functions.dispatch", "functions.complete", "functions.s3_trigger", "functions.api"]
HEAVY = ("papermill", "nbconvert", "pandas", "streamlit")
EVENTS = Path(__file__).resolve().parent.parent / "events"
NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def import_seconds(module: str) -> float:
    """Cumulative import time (python -X importtime) of boto3 and then `module`, as a handler's first call needs both.

    Handlers import boto3 lazily, so their own import alone would flatter them.
    """
    statement = "import boto3" if module == "boto3" else f"import boto3, {module}"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True
    )
    total = 0
    for line in result.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] in ("boto3", module):  # top-level lines: not indented
            total += int(parts[1])
    if not total:
        raise RuntimeError(f"no importtime line for {module}")
    return total / 1e6


def heavy_modules(module: str) -> list[str]:
    code = f"import sys, {module}; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()


# Run in a fresh interpreter: argv[1] the handler module, argv[2] the event. Prints timings on its last line.
FIRST_CALL = """
import json, sys, time

class Context:  # what Powertools reads from a Lambda context
    function_name = "shiftwork-bench"
    memory_limit_in_mb = 512
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:shiftwork-bench"
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 900_000

event = json.loads(sys.argv[2])
started = time.process_time()
import boto3, importlib
handler = importlib.import_module(sys.argv[1]).lambda_handler
imported = time.process_time()
result = handler(event, Context())
called = time.process_time()
print(json.dumps({"import": imported - started, "total": called - started, "result": result}))
"""

# The least a handler that touches DynamoDB does: import boto3, make a client, read one item.
MINIMAL_CALL = """
import json, os, sys, time
started = time.process_time()
import boto3
dynamodb = boto3.client("dynamodb", endpoint_url=os.environ["SHIFTWORK_ENDPOINT_URL"])
dynamodb.get_item(TableName="shiftwork-jobs", Key={"job_id": {"S": sys.argv[1]}})
print(json.dumps({"total": time.process_time() - started}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto() -> tuple[Any, dict[str, str]]:
    """A moto server with the stack's tables, bucket and ECS task definition; and the handlers' environment."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIFTWORK_", "AWS_", "POWERTOOLS_"))}
    env |= {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SHIFTWORK_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    os.environ.update(env)
    from shiftwork.config import get_settings
    from shiftwork.local.bootstrap import bootstrap_ecs, bootstrap_storage

    get_settings.cache_clear()
    bootstrap_storage(get_settings())
    subnets, security_groups = bootstrap_ecs(get_settings())
    env |= {"SHIFTWORK_SUBNETS": json.dumps(subnets), "SHIFTWORK_SECURITY_GROUPS": json.dumps(security_groups)}
    return server, env


def _event(name: str, **replacements: str) -> dict[str, Any]:
    text = (EVENTS / name).read_text()
    for key, value in replacements.items():
        text = text.replace("{{" + key + "}}", value)
    return dict(json.loads(text))


def fresh_event(module: str) -> tuple[dict[str, Any], str]:
    """A real event for the handler, about a job (or upload) it has not seen; and the status its job must reach."""
    from shiftwork import aws
    from shiftwork.config import get_settings
    from shiftwork.models import Status
    from shiftwork.store import jobs

    job_id = str(uuid.uuid4())
    if module == "functions.dispatch":
        jobs.put_new(jobs.draft(job_id, name="bench", status=Status.CREATED, input_filename="bench.ipynb"))
        return _event("dispatch_run_now.json", job_id=job_id), "QUEUED"
    if module == "functions.complete":
        task = f"arn:aws:ecs:us-east-1:123456789012:task/shiftwork/{uuid.uuid4().hex}"
        job = jobs.draft(job_id, name="bench", status=Status.IN_PROGRESS, input_filename="bench.ipynb", task_arn=task)
        jobs.put_new(job)
        return _event("ecs_task_state_change_stopped.json", job_id=job_id, task_arn=task), "FAILED"
    if module == "functions.api":  # GET /jobs?status=COMPLETED&sort_by=-end_time,...: the new job comes first
        done = jobs.draft(job_id, name="bench", status=Status.COMPLETED, input_filename="bench.ipynb")
        jobs.put_new(done.model_copy(update={"end_time": jobs.now_ms() + 10**9}))
        return _event("api_list_jobs.json"), "COMPLETED"
    bucket, key = get_settings().bucket, f"inbox/bench-{job_id}.ipynb"
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(NOTEBOOK).encode())
    return _event("s3_object_created.json", bucket=bucket, key=key, sequencer=uuid.uuid4().hex[:18]), "QUEUED"


def first_call(module: str, env: dict[str, str]) -> dict[str, float]:
    """Import and first call of `module` in a fresh interpreter; checks the call did its whole job."""
    event, status = fresh_event(module)
    run = subprocess.run(
        [sys.executable, "-c", FIRST_CALL, module, json.dumps(event)], env=env, capture_output=True, text=True
    )
    if run.returncode:
        raise RuntimeError(f"{module} failed:\n{run.stderr}")
    timings = json.loads(run.stdout.splitlines()[-1])
    job = timings.pop("result")
    job = job[0] if isinstance(job, list) else job  # s3_trigger returns the jobs it started
    if module == "functions.api":  # an HTTP response: its first job
        listed = json.loads(job["body"])["jobs"] if job.get("statusCode") == 200 else []
        job = listed[0] if listed and listed[0]["end_time"] > time.time() * 1000 else None
    if not job or job["status"] != status or (status == "QUEUED" and not job["task_arn"]):
        raise RuntimeError(f"{module} did not do the whole job: {job}")
    return dict(timings)


def minimal_call(env: dict[str, str]) -> dict[str, float]:
    run = subprocess.run(
        [sys.executable, "-c", MINIMAL_CALL, str(uuid.uuid4())], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(run.stdout.splitlines()[-1]))


def import_table(runs: int, console: Console) -> Table:
    modules = ["boto3", *HANDLERS]
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for _ in track(range(runs), description="importing in fresh interpreters...", console=console):
        for module in modules:  # alternate, so drift hits all alike
            samples[module].append(import_seconds(module))
    baseline = statistics.median(samples["boto3"])
    table = Table(title=f"Handler import time with boto3, median of {runs} (python -X importtime)")
    for column in ("module", "import (ms)", "ratio to boto3", "target", "heavy modules loaded"):
        table.add_column(column)
    for module in modules:
        median = statistics.median(samples[module])
        ratio = median / baseline
        heavy = "" if module == "boto3" else (", ".join(heavy_modules(module)) or "none")
        colour = "green" if ratio <= 1.5 else "red"
        table.add_row(module, f"{median * 1000:.0f}", f"[{colour}]{ratio:.2f}[/]", "1.50", heavy)
    return table


def first_call_table(runs: int, console: Console) -> Table:
    server, env = start_moto()
    samples: dict[str, list[dict[str, float]]] = {m: [] for m in ["minimal", *HANDLERS]}
    try:
        for _ in track(range(runs), description="import + first call against moto...", console=console):
            samples["minimal"].append(minimal_call(env))
            for module in HANDLERS:
                samples[module].append(first_call(module, env))
    finally:
        server.stop()
    baseline = statistics.median(s["total"] for s in samples["minimal"])
    table = Table(title=f"Import + first call on a real event against moto server, median of {runs} (CPU time)")
    for column in ("handler", "import (ms)", "first call (ms)", "import + first call (ms)", "ratio to minimal"):
        table.add_column(column)
    table.add_row("minimal: boto3 + one get_item", "", "", f"{baseline * 1000:.0f}", "1.00")
    for module in HANDLERS:
        imported = statistics.median(s["import"] for s in samples[module])
        total = statistics.median(s["total"] for s in samples[module])
        call = statistics.median(s["total"] - s["import"] for s in samples[module])
        row = (f"{imported * 1000:.0f}", f"{call * 1000:.0f}", f"{total * 1000:.0f}", f"{total / baseline:.2f}")
        table.add_row(module, *row)
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--import-only", action="store_true", help="skip import + first call against moto")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))  # room for the module names
    console.print(import_table(args.runs, console))
    if not args.import_only:
        console.print(first_call_table(args.runs, console))


if __name__ == "__main__":
    main()
