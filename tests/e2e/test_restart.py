"""Killing `shiftwork up` with SIGKILL and starting it again loses nothing a command had reported as done."""

from __future__ import annotations

import os
import signal

from tests.e2e.conftest import Cli, stop_up, wait_for_stack, wait_for_status
from tests.helpers import ROOT, cell_outputs, write_notebook


def test_state_survives_sigkill_of_up(tmp_path):
    cli = Cli(tmp_path / "state")
    up = cli.start("up")
    wait_for_stack(cli.state_dir, up)
    try:
        done = cli.json(
            "run", str(ROOT / "examples" / "hello.ipynb"), "-p", "name=Durable", "--format", "html", "--wait"
        )
        assert done["status"] == "COMPLETED"
        slow = write_notebook(tmp_path / "slow.ipynb", "x = 1", "import time\ntime.sleep(600)")
        running = cli.json("run", str(slow))
        wait_for_status(cli, running["job_id"], {"IN_PROGRESS"})
        logs_before = cli("job", "logs", done["job_id"]).stdout
    finally:
        os.killpg(up.pid, signal.SIGKILL)  # no chance to clean up: not the stack, not its runners
        up.wait()

    again = cli.start("up")
    wait_for_stack(cli.state_dir, again)
    try:
        jobs = {j["job_id"]: j for j in cli.json("jobs")}
        assert jobs[done["job_id"]] == done  # every field as it was reported
        lost = jobs[running["job_id"]]
        assert lost["status"] == "FAILED"
        assert "runner lost" in lost["status_message"]
        assert cli("job", "logs", done["job_id"]).stdout == logs_before
        out = tmp_path / "out"
        assert cli("job", "download", done["job_id"], str(out)).returncode == 0
        assert "Hello, Durable! (2/2)\n" in "".join(cell_outputs(out / "hello.ipynb"))
        assert (out / "hello.html").stat().st_size > 1000
        # and the restarted stack still runs jobs
        assert cli.json("run", str(ROOT / "examples" / "hello.ipynb"), "--wait")["status"] == "COMPLETED"
    finally:
        stop_up(again)
    # a clean stop too keeps everything, and no stack is left running
    assert not (cli.state_dir / "stack.json").exists()
    assert len(cli.json("jobs")) == 3
