"""Wall time of `shiftwork run --wait` on a trivial notebook against bare `papermill` on the same notebook.

Alternates the two, PAIRS times each (default 7), in two settings: with `shiftwork up` already running (the
command connects to it) and with no stack (the command embeds one for its own duration). Prints the median of
the per-pair ratios. Target: 1.3 or less.

    python bench/run_overhead.py [--pairs N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

BIN = Path(sys.executable).parent


def trivial_notebook(path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("x = 1")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell("print(x + 1)")]
    nbformat.write(notebook, str(path))
    return path


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(pairs: int, with_up: bool, work: Path, progress: Progress) -> tuple[list[float], list[float]]:
    notebook = trivial_notebook(work / "trivial.ipynb")
    state = work / ("state-up" if with_up else "state-embedded")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIFTWORK_", "AWS_"))}
    env["SHIFTWORK_STATE_DIR"] = str(state)
    up = None
    if with_up:
        up = subprocess.Popen(
            [str(BIN / "shiftwork"), "up"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while not (state / "stack.json").exists() or json.loads((state / "stack.json").read_text())["pid"] != up.pid:
            time.sleep(0.1)
    shiftwork = [str(BIN / "shiftwork"), "run", str(notebook), "--wait"]
    papermill = [str(BIN / "papermill"), "--no-progress-bar", str(notebook), str(work / "out.ipynb")]
    timed(papermill, env)  # warm the file cache for both
    timed(shiftwork, env)
    ours, theirs = [], []
    task = progress.add_task("with up" if with_up else "embedded", total=pairs)
    try:
        for _ in range(pairs):
            theirs.append(timed(papermill, env))
            ours.append(timed(shiftwork, env))
            progress.advance(task)
    finally:
        if up is not None:
            os.killpg(up.pid, signal.SIGINT)
            up.wait(60)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    console = Console()
    table = Table(title="shiftwork run --wait vs papermill (trivial notebook, wall time)")
    for column in ("setting", "papermill median (s)", "shiftwork median (s)", "median ratio", "target"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as scratch, Progress(console=console) as progress:
        results = {with_up: measure(args.pairs, with_up, Path(scratch), progress) for with_up in (True, False)}
    for with_up, (ours, theirs) in results.items():
        ratio = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
        table.add_row(
            "shiftwork up running" if with_up else "embedded per command",
            f"{statistics.median(theirs):.2f}",
            f"{statistics.median(ours):.2f}",
            f"[{'green' if ratio <= 1.3 else 'red'}]{ratio:.2f}[/]",
            "1.30",
        )
    console.print(table)


if __name__ == "__main__":
    main()
