"""Make the README's dashboard images, docs/images/jobs.png and docs/images/workflow-run.png, from a real stack.

    .venv/bin/python docs/screenshots.py [--out docs/images]

It starts `shiftwork up` over a temporary state directory, makes a few jobs from examples/hello.ipynb (some that
complete, one that fails, one run of a scheduled definition) and one run of examples/workflow, starts
`shiftwork dashboard` on it, and photographs the Jobs page and that run's page in headless Chromium (Debian's
/usr/bin/chromium through Playwright, 1400x900, full page). Needs the dev extra: pip install -e '.[dev]'.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser harness lives with the browser tests

from dashboard.keys import RUN_PARAM  # noqa: E402
from tests.e2e.browser import (  # noqa: E402
    browser_page,
    chromium_missing,
    open_page,
    running_dashboard,
    screenshot,
    wait_for_drawing,
)
from tests.e2e.conftest import Cli, stop_up, wait_for_stack, wait_for_status  # noqa: E402

HELLO = str(ROOT / "examples" / "hello.ipynb")
WORKFLOW = "examples/workflow/pipeline.py:daily"
TERMINAL = {"COMPLETED", "FAILED", "STOPPED"}
MAX_HEIGHT = 1400  # 1400 wide, 900 tall unless the page is longer: the README shows what a first look shows


def make_examples(cli: Cli) -> str:
    """A handful of jobs and one workflow run, all ended; the run's id."""
    formats = ["--format", "ipynb", "--format", "html"]
    submitted = [
        cli.json("run", HELLO, "--name", "hello-world", "-p", "name=World", "-p", "n=3", *formats),
        cli.json("run", HELLO, "--name", "hello-team", "-p", "name=Team", "-p", "n=5", *formats),
        cli.json("run", HELLO, "--name", "hello-broken", "-p", "n=three", *formats),  # range("three") fails
    ]
    definition = cli.json(
        "definitions", "create", HELLO, "--name", "morning-greeting", "--schedule", "0 7 * * 1-5",
        "--tz", "Europe/London", "-p", "name=Analysts", *formats,
    )  # fmt: skip
    submitted.append(cli.json("definitions", "run", definition["job_definition_id"]))
    run = cli.json("workflow", "run", WORKFLOW, "-p", "day=2026-03-02", "--wait", cwd=ROOT, timeout=300)
    assert run["status"] == "COMPLETED", run.get("status_message")
    for job in submitted:
        wait_for_status(cli, job["job_id"], TERMINAL, timeout=120)
    return str(run["job_id"])


def photograph(url: str, run_id: str, out: Path) -> list[Path]:
    """The Jobs page (the default: "/") and the run's page, each once drawn."""
    shots = [(out / "jobs.png", ""), (out / "workflow-run.png", f"run?{RUN_PARAM}={run_id}")]
    with browser_page() as page:
        for path, url_path in shots:
            open_page(page, url, url_path)
            wait_for_drawing(page)
            screenshot(page, path, max_height=MAX_HEIGHT)
            print(f"wrote {path}")
    return [path for path, _ in shots]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the PNGs")
    out = parser.parse_args().out
    missing = chromium_missing()
    if missing:
        sys.exit(f"no headless Chromium: {missing}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shiftwork-screenshots-") as scratch:
        cli = Cli(Path(scratch) / "state")
        up = cli.start("up")
        try:
            wait_for_stack(cli.state_dir, up)
            run_id = make_examples(cli)
            with running_dashboard(cli) as dashboard:
                photograph(dashboard.url, run_id, out)
        finally:
            stop_up(up)


if __name__ == "__main__":
    main()
