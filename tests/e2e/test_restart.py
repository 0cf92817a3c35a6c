"""Killing `shiftwork up` with SIGKILL and starting it again loses nothing a command had reported as done."""

from __future__ import annotations

import os
import signal

from tests.e2e.conftest import Cli, stop_up, wait_for_stack, wait_for_status
from tests.helpers import ROOT, cell_outputs, write_notebook

HELLO = str(ROOT / "examples" / "hello.ipynb")


def test_state_survives_sigkill_of_up(tmp_path):
    cli = Cli(tmp_path / "state")
    up = cli.start("up", "--max-parallel", "1")
    wait_for_stack(cli.state_dir, up)
    try:
        done = cli.json("run", HELLO, "-p", "name=Durable", "--format", "html", "--wait")
        assert done["status"] == "COMPLETED"
        slow = write_notebook(tmp_path / "slow.ipynb", "x = 1", "import time\ntime.sleep(600)")
        running = cli.json("run", str(slow))
        wait_for_status(cli, running["job_id"], {"IN_PROGRESS"})
        queued = cli.json("run", HELLO, "-p", "name=Patient")  # waits for the one slot
        assert cli.json("job", "show", queued["job_id"])["status"] == "QUEUED"
        logs_before = cli("job", "logs", done["job_id"]).stdout
        assert "Hello, Durable!" in logs_before
        assert cli("notify", "subscribe", "analyst@example.com").returncode == 0
    finally:
        os.killpg(up.pid, signal.SIGKILL)  # no chance to clean up: not the stack, not its runners
        up.wait()

    stale = set(os.listdir(cli.state_dir / "scratch"))
    assert stale  # the running job's scratch (and the warm runner's), left by the killed stack

    # the restart compacts the journal into a snapshot (threshold 1 byte), the next start loads that snapshot
    again = cli.start("up", SHIFTWORK_JOURNAL_COMPACT_BYTES="1")
    wait_for_stack(cli.state_dir, again)
    try:
        assert stale.isdisjoint(os.listdir(cli.state_dir / "scratch"))  # removed, with its runner, at the start
        jobs = {j["job_id"]: j for j in cli.json("jobs")}
        assert jobs[done["job_id"]] == done  # every field as it was reported
        assert [s["endpoint"] for s in cli.json("notify", "list")] == ["analyst@example.com"]
        lost = jobs[running["job_id"]]
        assert lost["status"] == "FAILED"
        assert "runner lost" in lost["status_message"]
        # a job that was queued and never started runs after the restart
        assert wait_for_status(cli, queued["job_id"], {"COMPLETED", "FAILED"})["status"] == "COMPLETED"
    finally:
        stop_up(again)
    assert (cli.state_dir / "data" / "snapshot" / "meta.json").exists()
    assert not (cli.state_dir / "stack.json").exists()  # a clean stop leaves no stack behind

    third = cli.start("up")
    wait_for_stack(cli.state_dir, third)
    try:
        jobs = {j["job_id"]: j for j in cli.json("jobs")}
        assert jobs[done["job_id"]] == done
        assert jobs[queued["job_id"]]["status"] == "COMPLETED"
        assert [s["endpoint"] for s in cli.json("notify", "list")] == ["analyst@example.com"]  # from the snapshot
        assert cli("job", "logs", done["job_id"]).stdout == logs_before
        assert "Hello, Patient!" in cli("job", "logs", queued["job_id"]).stdout
        out = tmp_path / "out"
        assert cli("job", "download", done["job_id"], str(out)).returncode == 0
        assert "Hello, Durable! (2/2)\n" in "".join(cell_outputs(out / "hello.ipynb"))
        assert (out / "hello.html").stat().st_size > 1000
        assert cli.json("run", HELLO, "--wait")["status"] == "COMPLETED"  # and it still runs jobs
    finally:
        stop_up(third)
