"""Run-after through the CLI with `shiftwork up` running: B --after A runs when A's job completes, with a kernel."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import wait_for_status
from tests.helpers import write_notebook

pytestmark = pytest.mark.e2e


def test_a_definition_runs_after_another_and_bad_upstreams_exit_2(up_cli, tmp_path):
    notebook = write_notebook(tmp_path / "step.ipynb", "who = 'nobody'", "print('step for', who)")
    a = up_cli.json("definitions", "create", str(notebook), "--name", "cli-a", "-p", "who=a")
    b = up_cli.json("definitions", "create", str(notebook), "--name", "cli-b", "--after", "cli-a", "--on", "success")
    assert (b["run_after"], b["run_after_condition"]) == (a["job_definition_id"], "on success")
    shown = up_cli("definitions", "show", b["job_definition_id"])
    assert f"after {a['job_definition_id']} (on success)" in shown.stdout

    cycle = up_cli("definitions", "update", a["job_definition_id"], "--after", b["job_definition_id"])
    assert cycle.returncode == 2 and "makes a cycle" in cycle.stderr, cycle.stderr
    missing = up_cli("definitions", "create", str(notebook), "--after", "no-such-definition")
    assert missing.returncode == 2 and "run_after 'no-such-definition'" in missing.stderr, missing.stderr
    both = up_cli("definitions", "create", str(notebook), "--after", "cli-a", "--schedule", "0 9 * * *")
    assert both.returncode == 2 and "not both" in both.stderr, both.stderr
    assert len(up_cli.json("definitions", "list")) == 2  # the refusals wrote nothing

    first = up_cli.json("definitions", "run", a["job_definition_id"])
    deadline = time.monotonic() + 120
    while not (found := up_cli.json("jobs", "--definition", b["job_definition_id"])):  # a's job ends first
        assert time.monotonic() < deadline, f"b's job never appeared: {up_cli.json('job', 'show', first['job_id'])}"
        time.sleep(1)
    [job] = found
    done = wait_for_status(up_cli, job["job_id"], {"COMPLETED", "FAILED"}, timeout=90)
    assert (done["status"], done["triggered_by"], done["parameters"]) == ("COMPLETED", first["job_id"], {})
    assert up_cli.json("job", "show", first["job_id"])["status"] == "COMPLETED"
    assert f"job {first['job_id']} (run after)" in up_cli("job", "show", job["job_id"]).stdout
