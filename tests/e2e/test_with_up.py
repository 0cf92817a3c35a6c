"""With `shiftwork up` running, commands connect to it: typed parameters, failures, timeouts, stops, logs."""

from __future__ import annotations

import json
import os
import time

from tests.e2e.conftest import wait_for_status
from tests.helpers import cell_outputs, write_notebook


def test_typed_parameters_reach_the_notebook_with_their_types(up_cli, tmp_path):
    notebook = write_notebook(
        tmp_path / "typed.ipynb",
        "n = 0\nratio = 0.0\nflag = False\nitems = []\nconfig = {}\nword = ''\nnothing = 1",
        "import json\nprint(json.dumps({k: type(v).__name__ for k, v in "
        "dict(n=n, ratio=ratio, flag=flag, items=items, config=config, word=word, nothing=nothing).items()}))",
    )
    job = up_cli.json(
        "run",
        str(notebook),
        "-p",
        "n=3",
        "-p",
        "ratio=0.5",
        "-p",
        "flag=true",
        "-p",
        "items=[1,2]",
        "-p",
        'config={"a": 1}',
        "-p",
        "word=hello",
        "-p",
        "nothing=null",
        "--wait",
    )
    assert job["status"] == "COMPLETED", job["status_message"]
    assert job["parameters"] == {
        "n": 3,
        "ratio": 0.5,
        "flag": True,
        "items": [1, 2],
        "config": {"a": 1},
        "word": "hello",
        "nothing": None,
    }
    up_cli("job", "download", job["job_id"], str(tmp_path / "out"))
    printed = json.loads(cell_outputs(tmp_path / "out" / "typed.ipynb")[-1])
    assert printed == {
        "n": "int",
        "ratio": "float",
        "flag": "bool",
        "items": "list",
        "config": "dict",
        "word": "str",
        "nothing": "NoneType",
    }


def test_failure_exits_1_and_keeps_the_partial_output(up_cli, tmp_path):
    notebook = write_notebook(
        tmp_path / "boom.ipynb", "x = 1", "print('made it here')", "raise ValueError('bad data in row 7')"
    )
    result = up_cli("run", str(notebook), "--wait")
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    job_id = result.stdout.split("job ", 1)[1].split()[0]
    job = up_cli.json("job", "show", job_id)
    assert "ValueError: bad data in row 7" in job["status_message"]
    assert job["status_message"].startswith("cell 3 (In [3]) raised")
    up_cli("job", "download", job_id, str(tmp_path / "out"))
    outputs = cell_outputs(tmp_path / "out" / "boom.ipynb")
    assert "made it here\n" in outputs


def test_timeout_fails_the_job_with_its_reason(up_cli, tmp_path):
    notebook = write_notebook(tmp_path / "slow.ipynb", "seconds = 1", "import time\ntime.sleep(seconds)\nprint('woke')")
    started = time.monotonic()
    job = up_cli.json("run", str(notebook), "-p", "seconds=120", "--timeout", "3", "--wait")
    assert time.monotonic() - started < 60
    assert job["status"] == "FAILED"
    assert job["status_message"] == "timed out after 3 s in cell 2 (In [3])"  # In [2] is papermill's injected cell
    assert any(f["file_format"] == "ipynb" for f in job["job_files"])  # the partial notebook is kept


def test_stop_ends_a_running_job_and_kills_its_processes(up_cli, tmp_path):
    notebook = write_notebook(
        tmp_path / "forever.ipynb",
        "marker = ''",
        "import os, time\nprint('pid', os.getpid(), marker, flush=True)\ntime.sleep(600)",
    )
    marker = f"m{os.getpid()}x{time.time_ns()}"
    submitted = up_cli.json("run", str(notebook), "-p", f"marker={marker}")  # returns at once: `up` runs it
    assert submitted["status"] in ("CREATED", "QUEUED", "IN_PROGRESS")
    job_id = submitted["job_id"]
    wait_for_status(up_cli, job_id, {"IN_PROGRESS"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and marker not in up_cli("job", "logs", job_id).stdout:
        time.sleep(0.3)
    kernel_pid = int(up_cli("job", "logs", job_id).stdout.split(f" {marker}")[0].rsplit("pid ", 1)[1])

    result = up_cli("job", "stop", job_id)
    assert result.returncode == 0, result.stderr
    assert "STOPPED" in result.stdout
    job = up_cli.json("job", "show", job_id)
    assert job["status"] == "STOPPED"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and os.path.exists(f"/proc/{kernel_pid}"):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{kernel_pid}"), "the notebook's kernel outlived the stop"
    again = up_cli("job", "stop", job_id)
    assert again.returncode == 1
    assert "is STOPPED" in again.stderr


def test_logs_follow_streams_until_the_job_ends(up_cli, tmp_path):
    notebook = write_notebook(
        tmp_path / "ticks.ipynb",
        "n = 3",
        "import time\nfor i in range(n):\n    print('tick', i, flush=True)\n    time.sleep(0.5)",
    )
    job = up_cli.json("run", str(notebook))
    result = up_cli("job", "logs", job["job_id"], "--follow", timeout=120)
    assert result.returncode == 0
    assert [line for line in result.stdout.splitlines() if line.startswith("tick")] == ["tick 0", "tick 1", "tick 2"]
    assert up_cli.json("job", "show", job["job_id"])["status"] == "COMPLETED"


def test_jobs_filters_by_status(up_cli):
    failed = up_cli.json("jobs", "--status", "failed")
    assert failed and {j["status"] for j in failed} == {"FAILED"}
    bad = up_cli("jobs", "--status", "sleeping")
    assert bad.returncode == 2
    assert "status 'sleeping'" in bad.stderr


def test_up_serves_the_rest_api_behind_its_token(up_cli):
    import urllib.error
    import urllib.request

    info = json.loads((up_cli.state_dir / "stack.json").read_text())
    token = (up_cli.state_dir / "api-token").read_text().strip()
    assert info["api_url"].startswith("http://127.0.0.1:")
    request = urllib.request.Request(info["api_url"] + "/jobs", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        listed = json.loads(response.read())
    assert {j["job_id"] for j in listed["jobs"]} == {j["job_id"] for j in up_cli.json("jobs")}
    try:
        urllib.request.urlopen(info["api_url"] + "/jobs", timeout=30)
        raise AssertionError("served without a token")
    except urllib.error.HTTPError as error:
        assert error.code == 401


def test_the_cli_drives_the_rest_api_with_endpoint(up_cli, tmp_path):
    """`--endpoint` (as for a deployed stack): no local stack is started; everything goes through the API."""
    from tests.e2e.conftest import Cli

    api_url = json.loads((up_cli.state_dir / "stack.json").read_text())["api_url"]
    remote = Cli(tmp_path / "never-made")
    env = {"SHIFTWORK_API_URL": api_url, "SHIFTWORK_API_TOKEN": (up_cli.state_dir / "api-token").read_text()}
    (tmp_path / "data.txt").write_text("from the folder")
    notebook = write_notebook(tmp_path / "remote.ipynb", "who = 'x'", "print(who, open('data.txt').read())")

    result = remote("run", str(notebook), "-p", "who=remote", "--input-folder", "--wait", env=env)
    assert result.returncode == 0, result.stderr
    assert "COMPLETED" in result.stdout
    job_id = result.stdout.split("job ", 1)[1].split()[0]
    listed = remote("jobs", "--json", env=env)
    assert job_id in [j["job_id"] for j in json.loads(listed.stdout)]
    assert remote("job", "download", job_id, str(tmp_path / "out"), env=env).returncode == 0
    assert "remote from the folder\n" in cell_outputs(tmp_path / "out" / "remote.ipynb")

    created = remote("definitions", "create", str(notebook), "--schedule", "0 6 * * *", "--json", env=env)
    assert created.returncode == 0, created.stderr
    definition_id = json.loads(created.stdout)["job_definition_id"]
    shown = up_cli.json("definitions", "show", definition_id)  # the local stack has it: the API made it there
    assert shown["schedule"] == "0 6 * * *"
    assert remote("definitions", "delete", definition_id, env=env).returncode == 0

    refused = remote("jobs", env={**env, "SHIFTWORK_API_TOKEN": "guess"})
    assert refused.returncode == 1
    assert "401" in refused.stderr and "--token" in refused.stderr
    bad = remote("run", str(notebook), "-p", "who=1", "--format", "docx", env=env)
    assert bad.returncode == 2 and "docx" in bad.stderr
    assert not (tmp_path / "never-made").exists()  # no embedded stack was made for any of it
