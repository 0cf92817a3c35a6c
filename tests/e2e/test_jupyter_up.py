"""The README's JupyterLab path: `jupyter lab --SchedulerApp.scheduler_class=...` in a user's environment (nothing of
a stack's), started before `shiftwork up`, then finding it over the state directory and running jobs there."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Cli, clean_environment, stop_up, wait_for_stack
from tests.helpers import cell_outputs, write_notebook
from tests.jupyter.server import jupyter_lab

pytestmark = pytest.mark.e2e


def test_jupyterlab_started_before_up_finds_it_and_its_jobs_are_the_clis(tmp_path):
    cli = Cli(tmp_path / "state")
    with jupyter_lab(tmp_path / "lab", env=clean_environment(cli.state_dir)) as lab:
        status, answer = lab.call("GET", "/scheduler/runtime_environments")
        assert status == 503 and "no `shiftwork up` is running" in answer["message"]

        up = cli.start("up")
        try:
            wait_for_stack(cli.state_dir, up)
            deadline = time.monotonic() + 60  # its REST API comes up a moment after the stack: JupyterLab asks again
            while (status := lab.call("GET", "/scheduler/runtime_environments")[0]) == 503:
                assert time.monotonic() < deadline, lab.output()
                time.sleep(0.3)
            assert status == 200
            write_notebook(lab.root / "report.ipynb", "region = 'none'", "print('report for', region)")
            body = {
                "input_uri": "report.ipynb",
                "runtime_environment_name": "python3",
                "name": "from-lab",
                "parameters": {"region": "'EU'"},
            }
            status, answer = lab.call("POST", "/scheduler/jobs", body)
            assert status == 200, answer
            job_id = answer["job_id"]
            deadline = time.monotonic() + 120
            while (job := lab.call("GET", f"/scheduler/jobs/{job_id}")[1])["status"] not in ("COMPLETED", "FAILED"):
                assert time.monotonic() < deadline, lab.output()
                time.sleep(0.3)
            assert job["status"] == "COMPLETED", job["status_message"]

            shown = cli.json("job", "show", job_id)  # the CLI sees the same job
            assert (shown["name"], shown["status"], shown["parameters"]) == ("from-lab", "COMPLETED", {"region": "EU"})
            downloaded = cli("job", "download", job_id, str(tmp_path / "out"))
            assert downloaded.returncode == 0, downloaded.stderr
            assert "report for EU\n" in cell_outputs(tmp_path / "out" / "report.ipynb")
        finally:
            stop_up(up)
