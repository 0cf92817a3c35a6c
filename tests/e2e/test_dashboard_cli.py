"""`shiftwork dashboard`: refused without a stack (saying how to start one), else Streamlit served over the running
`shiftwork up`'s REST API until a signal stops it."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.browser import Dashboard, healthy, running_dashboard
from tests.e2e.conftest import Cli

pytestmark = pytest.mark.e2e


def published_stack(cli: Cli, timeout: float = 30) -> dict[str, str]:
    """up's stack.json once it names its REST API (it is first written without: the API starts after the stack)."""
    deadline = time.monotonic() + timeout
    while not (stack := json.loads((cli.state_dir / "stack.json").read_text()))["api_url"]:
        assert time.monotonic() < deadline, "shiftwork up never published its REST API"
        time.sleep(0.1)
    return dict(stack)


def test_without_a_running_stack_it_exits_2_saying_how_to_start_one(cli: Cli):
    result = cli("dashboard", "--port", "0", timeout=60)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"no `shiftwork up` is running over {cli.state_dir}" in message
    assert "Start one in another terminal: `shiftwork up`" in message
    assert "`shiftwork --endpoint URL dashboard` (or SHIFTWORK_API_URL=URL)" in message
    assert not (cli.state_dir / "stack.json").exists()  # it embedded no stack of its own


def test_an_endpoint_that_is_no_url_is_refused_naming_it(cli: Cli):
    result = cli("--endpoint", "nowhere", "dashboard", timeout=60)
    assert result.returncode == 2
    assert "endpoint" in result.stderr
    assert "'nowhere'" in result.stderr


def test_a_wrong_token_is_refused_before_streamlit_starts(up_cli: Cli):
    api_url = published_stack(up_cli)["api_url"]
    result = up_cli("--endpoint", api_url, "--token", "not-the-token", "dashboard", "--port", "0", timeout=60)
    assert result.returncode == 1
    assert "check --token" in result.stderr
    assert "streamlit" not in result.stdout.lower()


def test_a_port_in_use_is_refused_naming_it(up_cli: Cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = up_cli("dashboard", "--port", str(port), timeout=60)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert f"--port {port!r}: Address already in use: pick another, or --port 0 for a free one" in message


def printed(dashboard: Dashboard, line: str, timeout: float = 15) -> None:
    """`line` is printed, soon: the command prints it once its own health check saw Streamlit serve."""
    deadline = time.monotonic() + timeout
    while line not in (output := Path(dashboard.process.output).read_text()):  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, output
        time.sleep(0.1)


def streamlit_environment(dashboard: Dashboard) -> dict[str, str]:
    entries = Path(f"/proc/{dashboard.streamlit_pid()}/environ").read_text().split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def test_it_serves_over_ups_api_and_stops_on_sigterm(up_cli: Cli):
    stack = published_stack(up_cli)
    with running_dashboard(up_cli, stop_with=signal.SIGTERM) as dashboard:
        assert healthy(dashboard.url)
        with urllib.request.urlopen(dashboard.url, timeout=10) as response:
            assert response.status == 200
            assert '<div id="root"></div>' in response.read().decode()  # Streamlit's page, drawn by its script
        streamlit = dashboard.streamlit_pid()
        environment = streamlit_environment(dashboard)
        assert environment["SHIFTWORK_API_URL"] == stack["api_url"]  # the page's backend is a Client of up's API
        assert environment["SHIFTWORK_API_TOKEN"] == (up_cli.state_dir / "api-token").read_text().strip()
        assert "dashboard/app.py" in Path(f"/proc/{streamlit}/cmdline").read_text()
        printed(dashboard, f"dashboard: {dashboard.url} on the API at {stack['api_url']} (Ctrl-C stops it)")
    assert dashboard.process.returncode == 0
    assert ended(streamlit, timeout=0), "Streamlit outlived the command"
    assert not healthy(dashboard.url)


def test_with_an_endpoint_it_serves_that_api_with_its_token(up_cli: Cli, tmp_path: Path):
    api_url = published_stack(up_cli)["api_url"]
    token = (up_cli.state_dir / "api-token").read_text().strip()
    elsewhere = str(tmp_path / "no-stack-here")  # no stack runs over it: only --endpoint can be what it serves
    with running_dashboard(
        up_cli, "--endpoint", api_url + "/", "--token", token, SHIFTWORK_STATE_DIR=elsewhere
    ) as dashboard:
        environment = streamlit_environment(dashboard)
        assert (environment["SHIFTWORK_API_URL"], environment["SHIFTWORK_API_TOKEN"]) == (api_url, token)
    assert dashboard.process.returncode == 0  # Ctrl-C


def ended(pid: int, timeout: float = 20) -> bool:
    """The process is gone (or a zombie nobody reaped: it ran its exit)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except FileNotFoundError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def test_a_killed_command_leaves_no_streamlit_behind(up_cli: Cli):
    with running_dashboard(up_cli) as dashboard:
        streamlit = dashboard.streamlit_pid()
        dashboard.process.kill()  # SIGKILL: no handler runs, the child is told by the kernel
        assert ended(streamlit), "Streamlit outlived the killed command"
        assert not healthy(dashboard.url)
