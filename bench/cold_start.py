"""Cold start: import time of each Lambda handler module against `import boto3` alone.

Each import runs in a fresh interpreter with `python -X importtime`; the figure is the cumulative time of the
top-level import, median of RUNS (default 7). Target: 1.5x boto3 or less. Also checks that the dispatch path
never imports papermill, nbconvert, pandas or streamlit.

    python bench/cold_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from rich.console import Console
from rich.progress import track
from rich.table import Table

HANDLERS = ["functions.dispatch", "functions.complete", "functions.s3_trigger"]
HEAVY = ("papermill", "nbconvert", "pandas", "streamlit")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    console = Console()
    modules = ["boto3", *HANDLERS]
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for _ in track(range(args.runs), description="importing in fresh interpreters...", console=console):
        for module in modules:  # alternate, so drift hits all alike
            samples[module].append(import_seconds(module))
    baseline = statistics.median(samples["boto3"])
    table = Table(title=f"Handler import time with boto3, median of {args.runs} (python -X importtime)")
    for column in ("module", "import (ms)", "ratio to boto3", "target", "heavy modules loaded"):
        table.add_column(column)
    for module in modules:
        median = statistics.median(samples[module])
        ratio = median / baseline
        heavy = "" if module == "boto3" else (", ".join(heavy_modules(module)) or "none")
        colour = "green" if ratio <= 1.5 else "red"
        table.add_row(module, f"{median * 1000:.0f}", f"[{colour}]{ratio:.2f}[/]", "1.50", heavy)
    console.print(table)


if __name__ == "__main__":
    main()
