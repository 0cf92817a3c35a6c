"""JupyterLab's scheduler on Shiftwork against jupyter-scheduler's own default Scheduler, in one run.

Two real `jupyter lab` servers over roots of their own, driven over HTTP exactly as JupyterLab's UI drives them:
1. ShiftworkScheduler on an embedded stack started by this script (the Service, in the stack's environment);
2. the baseline: jupyter-scheduler's default Scheduler (SQLite, a spawned process per job running nbconvert).
For each: the time from POST /scheduler/jobs to GET /scheduler/jobs/{id} saying COMPLETED for a trivial notebook
(median of JOBS, one job at a time), and the list the "Notebook Jobs" panel loads (GET /scheduler/jobs, its first
page with total_count) with the jobs present (median of LISTS). Prints each median and the ratio Shiftwork/default.

    python bench/jupyter_backend.py [--jobs N] [--lists N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import write_notebook  # noqa: E402
from tests.jupyter.server import JupyterServer, jupyter_lab  # noqa: E402

DEFAULT_SCHEDULER = "jupyter_scheduler.scheduler.Scheduler"


def run_job(lab: JupyterServer, name: str) -> float:
    """Seconds from the POST to COMPLETED, polled every 50 ms as a client watching it would."""
    body = {"input_uri": "trivial.ipynb", "runtime_environment_name": environment(lab), "name": name}
    started = time.perf_counter()
    status, answer = lab.call("POST", "/scheduler/jobs", body)
    assert status == 200, answer
    while time.perf_counter() - started < 120:
        job = lab.call("GET", f"/scheduler/jobs/{answer['job_id']}")[1]
        if job["status"] in ("COMPLETED", "FAILED"):  # not STOPPED: jupyter-scheduler's record says so until it starts
            assert job["status"] == "COMPLETED", job.get("status_message")
            return time.perf_counter() - started
        time.sleep(0.05)
    raise AssertionError(f"{name} did not end in 120 s:\n{lab.output()}")


def environment(lab: JupyterServer) -> str:
    return str(lab.call("GET", "/scheduler/runtime_environments")[1][0]["name"])


def list_seconds(lab: JupyterServer) -> float:
    started = time.perf_counter()
    status, page = lab.call("GET", "/scheduler/jobs?sort_by=desc(create_time)&max_items=25")
    assert status == 200 and page["total_count"] >= 1, page
    return time.perf_counter() - started


def measure(lab: JupyterServer, label: str, jobs: int, lists: int, progress: Progress) -> dict[str, float]:
    write_notebook(lab.root / "trivial.ipynb", "x = 1", "print(x + 1)")
    task = progress.add_task(f"{label}: jobs", total=jobs)
    job_times = []
    for index in range(jobs):
        job_times.append(run_job(lab, f"bench-{index}"))
        progress.advance(task)
    task = progress.add_task(f"{label}: lists", total=lists)
    list_times = []
    for _ in range(lists):
        list_times.append(list_seconds(lab))
        progress.advance(task)
    return {"job": statistics.median(job_times), "list": statistics.median(list_times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--lists", type=int, default=20)
    args = parser.parse_args()

    from shiftwork.local.stack import EmbeddedStack

    console = Console()
    with tempfile.TemporaryDirectory(prefix="shiftwork-bench-jupyter-") as folder:
        stack = EmbeddedStack(Path(folder) / "state", run_jobs=True).start()  # the environment is now the stack's
        try:
            with Progress(console=console, transient=True) as progress:
                with jupyter_lab(Path(folder) / "shiftwork") as lab:
                    ours = measure(lab, "Shiftwork", args.jobs, args.lists, progress)
                bare = {k: v for k, v in os.environ.items() if not k.startswith("SHIFTWORK_")}
                with jupyter_lab(Path(folder) / "default", env=bare, scheduler_class=DEFAULT_SCHEDULER) as lab:
                    baseline = measure(lab, "default", args.jobs, args.lists, progress)
        finally:
            stack.close()

    table = Table(title=f"JupyterLab's scheduler: median of {args.jobs} jobs, {args.lists} lists")
    for column in ("measure", "ShiftworkScheduler", "jupyter-scheduler's Scheduler", "ratio"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    for key, label in (("job", "POST to COMPLETED"), ("list", "GET /scheduler/jobs (25 a page)")):
        table.add_row(
            label, f"{ours[key] * 1000:.0f} ms", f"{baseline[key] * 1000:.0f} ms", f"{ours[key] / baseline[key]:.2f}"
        )
    console.print(table)


if __name__ == "__main__":
    main()
