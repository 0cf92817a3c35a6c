"""Workflow overhead: trivial tasks on the embedded stack against Prefect 3 running the same functions.

Two workloads: a chain of 10 tasks (each takes the previous one's result) and a 1 -> 20 -> 1 fan-out (a task
making a list of 20, a mapped task over it, a task summing the 20 results). Each runs on
- Shiftwork, default executor: every task its own runner process (a Fargate container's stand-in), started by
  the embedded stack's local launcher;
- Shiftwork, executor="lambda": every task in a warm in-process worker (the task Lambda's stand-in);
- Prefect 3 with its default task runner (threads in the flow's process) and its ephemeral local server (SQLite
  under a temporary PREFECT_HOME: no network), the baseline, in the same process run.
The figures: median wall time of REPEATS runs after one untimed warm-up each (Shiftwork: the submit to the run's
recorded end; Prefect: the flow call to its return), the ratio to Prefect's, the median hop (a task's end to its
dependent's start) from the task records (Shiftwork's start_time/end_time, Prefect's task runs' as its API reports
them), and the AWS API calls per task that reach the embedded moto server, from every process, by action.

    pip install -e '.[local,bench]'
    python bench/workflow_overhead.py [--repeats N] [--skip-process]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

CHAIN = 10
FAN = 20

# The same functions for both; the decorators are Shiftwork's, Prefect wraps their plain functions (`.fn`).
MODULE = """
from shiftwork import task, workflow


@task(executor="{executor}")
def step(x: int) -> int:
    return x + 1


@task(executor="{executor}")
def items(n: int) -> list[int]:
    return list(range(n))


@task(executor="{executor}")
def gather(xs: list[int]) -> int:
    return sum(xs)


@workflow(name="bench-chain")
def chain():
    x = step(0).alias("step_0")
    for i in range(1, {chain}):
        x = step(x).alias(f"step_{{i}}")


@workflow(name="bench-fan")
def fan():
    gather(step.map(items({fan})))
"""


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def chain_hops(spans: list[tuple[float, float]]) -> list[float]:
    """Seconds from each task's end to the next one's start, spans being (start, end) in chain order."""
    return [later[0] - earlier[1] for earlier, later in itertools.pairwise(spans)]


def fan_hops(first: tuple[float, float], middle: list[tuple[float, float]], last: tuple[float, float]) -> list[float]:
    """The fan-out's two hops: the list's end to the first instance's start, the last instance's end to the sum's."""
    return [min(start for start, _ in middle) - first[1], last[0] - max(end for _, end in middle)]


# --- Shiftwork ---------------------------------------------------------------------------------------------------


def shiftwork_module(folder: Path, executor: str) -> Any:
    """The bench workflows' module for `executor`, written to its own folder (its code snapshot) and loaded."""
    from shiftwork.workflows import load_workflow

    name = f"bench_{executor}"
    folder = folder / name
    folder.mkdir()
    (folder / f"{name}.py").write_text(MODULE.format(executor=executor, chain=CHAIN, fan=FAN))
    load_workflow(str(folder / f"{name}.py:chain"))
    return sys.modules[name]


def shiftwork_once(sw: Any, workflow: Any, calls: CallCounter | None = None) -> tuple[float, list[float]]:
    """One run: its wall time (submit to the run's recorded end) and its hops, from the task records."""
    from shiftwork.models.workflow import RunWorkflow
    from shiftwork.waiting import wait_for_job

    polls = 0

    def get_job(job_id: str) -> Any:
        nonlocal polls
        polls += 1
        return sw.get_job(job_id)

    started = time.time()
    job = sw.workflows.run(RunWorkflow(spec=workflow.spec(), parameters={}), workflow.code_files())
    done = wait_for_job(get_job, job.job_id, timeout=300, poll=0.25)  # not faster: polls load the stack too
    wall = done.end_time / 1000 - started
    if calls is not None:
        calls.pause(discount={"dynamodb GetItem": polls})  # the bench's own reads are not the run's
    if done.status != "COMPLETED":
        raise RuntimeError(f"{workflow.name} run {job.job_id} {done.status}: {done.status_message}")
    records = {task.task_id: task for task in sw.workflows.tasks(job.job_id)}
    if calls is not None:
        calls.resume()

    def span(task_id: str) -> tuple[float, float]:
        task = records[task_id]
        return task.start_time / 1000, task.end_time / 1000

    if workflow.name == "bench-chain":
        return wall, chain_hops([span(f"step_{i}") for i in range(CHAIN)])
    middle = [span(f"step[{i}]") for i in range(FAN)]
    return wall, fan_hops(span("items"), middle, span("gather"))


def shiftwork_runs(module: Any, repeats: int, calls: CallCounter) -> dict[str, tuple[list[float], list[float]]]:
    """{workload: (wall times, hops)} on a stack embedded over a fresh state directory; AWS calls counted."""
    from shiftwork import connect

    found: dict[str, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="shiftwork-bench-") as state, connect(state_dir=Path(state)) as sw:
        for workload in ("chain", "fan"):
            workflow = getattr(module, workload)
            shiftwork_once(sw, workflow)  # warm-up: the warm runner, the workers, moto's first answers
            walls, hops = [], []
            calls.start(f"{module.__name__.removeprefix('bench_')} {workload}")
            for _ in range(repeats):
                wall, hop = shiftwork_once(sw, workflow, calls)
                walls.append(wall)
                hops += hop
            calls.stop()
            found[workload] = (walls, hops)
    return found


SERVICES = {
    "DynamoDB_20120810": "dynamodb",
    "AmazonSQS": "sqs",
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AWSEvents": "events",
    "Logs_20140328": "logs",
}


class CallCounter:
    """Every request the embedded moto server answers (from the stack, runners and workers alike), by service
    and action, while a workload runs: counted by wrapping the server's WSGI app in this process."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self._current: Counter[str] | None = None
        self._paused: Counter[str] | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        from shiftwork.local.server import JournalingApp

        original, counter = JournalingApp.__call__, self

        def counted(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
            counter.record(environ)
            return original(app, environ, start_response)

        JournalingApp.__call__ = counted  # type: ignore[method-assign]

    def record(self, environ: dict[str, Any]) -> None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            prefix, _, action = target.partition(".")
            name = f"{SERVICES.get(prefix, prefix)} {action}"
        else:
            name = f"s3 {environ.get('REQUEST_METHOD', '?')}"  # path-style S3 requests name no target
        with self._lock:
            if self._current is not None:
                self._current[name] += 1

    def start(self, label: str) -> None:
        with self._lock:
            self._current = self.counts.setdefault(label, Counter())

    def stop(self) -> None:
        with self._lock:
            self._current = None

    def pause(self, discount: dict[str, int]) -> None:
        with self._lock:
            assert self._current is not None
            self._current.subtract(discount)
            self._paused, self._current = self._current, None

    def resume(self) -> None:
        with self._lock:
            self._current = self._paused


# --- Prefect -----------------------------------------------------------------------------------------------------


def prefect_runs(module: Any, repeats: int) -> dict[str, tuple[list[float], list[float]]]:
    """The same functions as Prefect tasks in Prefect flows, on its default task runner and ephemeral server."""
    from prefect import flow
    from prefect import task as prefect_task

    step, items, gather = (prefect_task(getattr(module, name).fn) for name in ("step", "items", "gather"))

    @flow(name="bench-chain")
    def chain() -> int:
        x = step(0)
        for _ in range(1, CHAIN):
            x = step(x)
        return x

    @flow(name="bench-fan")
    def fan() -> int:
        return gather(step.map(items(FAN)))

    found: dict[str, tuple[list[float], list[float]]] = {}
    for workload, function in (("chain", chain), ("fan", fan)):
        prefect_once(function, workload)  # warm-up: the ephemeral server starts with the first flow run
        walls, hops = [], []
        for _ in range(repeats):
            wall, hop = prefect_once(function, workload)
            walls.append(wall)
            hops += hop
        found[workload] = (walls, hops)
    return found


def prefect_once(function: Callable[..., Any], workload: str) -> tuple[float, list[float]]:
    started = time.perf_counter()
    state = function(return_state=True)
    wall = time.perf_counter() - started
    if not state.is_completed():
        raise RuntimeError(f"prefect {workload}: {state}")
    runs = prefect_task_runs(state.state_details.flow_run_id, CHAIN if workload == "chain" else FAN + 2)
    if workload == "chain":
        return wall, chain_hops([span for _, span in sorted(runs, key=lambda run: run[1][0])])
    middle = [span for name, span in runs if name.startswith("step")]
    first = next(span for name, span in runs if name.startswith("items"))
    last = next(span for name, span in runs if name.startswith("gather"))
    return wall, fan_hops(first, middle, last)


def prefect_task_runs(flow_run_id: Any, count: int) -> list[tuple[str, tuple[float, float]]]:
    """(task name, (start, end)) of each task run of a flow run, as Prefect's API records them.

    Prefect 3's server records task runs from the events the engine sends, a little after the flow returns: read
    until all `count` have their end time."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if len(runs) == count and all(run.start_time and run.end_time for run in runs):
                return [(run.name, (run.start_time.timestamp(), run.end_time.timestamp())) for run in runs]
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect recorded {len(runs)} of {count} task runs of {flow_run_id}")
            time.sleep(0.2)


# --- the table ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each workload on each engine")
    parser.add_argument("--skip-process", action="store_true", help="leave out the process-per-task executor")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="prefect-home-")
    os.environ.update(PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a loaded machine
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    console = Console()
    console.print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    folder = Path(tempfile.mkdtemp(prefix="workflow-bench-"))
    results: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    modules = {executor: shiftwork_module(folder, executor) for executor in ("fargate", "lambda")}
    results["prefect"] = prefect_runs(modules["fargate"], args.repeats)  # the same plain functions
    calls = CallCounter()
    calls.install()
    for executor in ["lambda"] if args.skip_process else ["fargate", "lambda"]:
        results[executor] = shiftwork_runs(modules[executor], args.repeats, calls)
    console.print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    console.print(table(results, args.repeats))
    console.print(calls_table(calls, args.repeats))


LABELS = {
    "prefect": "Prefect 3 (threads, ephemeral server)",
    "fargate": "Shiftwork, a process per task",
    "lambda": 'Shiftwork, executor="lambda"',
}


def table(results: dict[str, dict[str, tuple[list[float], list[float]]]], repeats: int) -> Table:
    out = Table(title=f"{CHAIN}-task chain and 1 -> {FAN} -> 1 fan-out, median of {repeats}")
    for column in ("workload", "engine", "wall s", "x Prefect", "hop ms (median)", "hop ms (max)"):
        out.add_column(column, justify="left" if column in ("workload", "engine") else "right")
    for workload in ("chain", "fan"):
        baseline = _median(results["prefect"][workload][0]) or 0.0
        for engine, found in results.items():
            walls, hops = found[workload]
            wall = _median(walls) or 0.0
            hop = _median(hops)
            out.add_row(
                workload,
                LABELS[engine],
                f"{wall:.2f}",
                f"{wall / baseline:.2f}" if baseline else "-",
                f"{hop * 1000:.0f}" if hop is not None else "-",
                f"{max(hops) * 1000:.0f}" if hops else "-",
            )
    return out


def calls_table(calls: CallCounter, repeats: int) -> Table:
    """AWS API calls per task (all processes, idle ReceiveMessage polls left out), by service."""
    tasks = {"chain": CHAIN, "fan": FAN + 2}
    out = Table(title="AWS API calls per task on the embedded stack (idle queue polls left out)")
    out.add_column("run")
    out.add_column("per task", justify="right")
    out.add_column("by service and action (per task)")
    for label, counter in calls.counts.items():
        counted = {name: n for name, n in counter.items() if name != "sqs ReceiveMessage"}
        per_task = repeats * tasks[label.split()[-1]]
        top = sorted(counted.items(), key=lambda item: -item[1])
        detail = ", ".join(f"{name} {n / per_task:.1f}" for name, n in top[:8])
        out.add_row(label, f"{sum(counted.values()) / per_task:.1f}", detail)
    return out


if __name__ == "__main__":
    main()
