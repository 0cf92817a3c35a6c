"""The S3 trigger through the CLI: an upload under inbox/ runs once, and a restart does not run it again."""

from __future__ import annotations

import time

from tests.e2e.conftest import Cli, stop_up, wait_for_stack
from tests.helpers import ROOT

HELLO = str(ROOT / "examples" / "hello.ipynb")


def _arrivals(cli):
    return [j for j in cli.json("jobs") if any(t.endswith("/inbox/hello.ipynb") for t in j["tags"])]


def test_an_upload_runs_once_and_not_again_after_a_restart(tmp_path):
    cli = Cli(tmp_path / "state")
    up = cli.start("up")
    wait_for_stack(cli.state_dir, up)
    try:
        result = cli("upload", HELLO)
        assert result.returncode == 0, result.stderr
        assert "uploaded s3://shiftwork-data/inbox/hello.ipynb" in result.stdout
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not [j for j in _arrivals(cli) if j["status"] == "COMPLETED"]:
            time.sleep(0.5)
        [job] = _arrivals(cli)
        assert job["status"] == "COMPLETED"
    finally:
        stop_up(up)
    again = cli.start("up")  # replays the journal, the upload included
    wait_for_stack(cli.state_dir, again)
    try:
        time.sleep(3)
        assert [j["job_id"] for j in _arrivals(cli)] == [job["job_id"]]
    finally:
        stop_up(again)
    bad = cli("upload", str(tmp_path / "missing.ipynb"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr
