"""`shiftwork dashboard`: the Streamlit dashboard on the running `shiftwork up`'s REST API, or on --endpoint's.

The dashboard process reads and acts only through a Client of that API (SHIFTWORK_API_URL, SHIFTWORK_API_TOKEN),
so it works the same on a laptop and against a deployed stack.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiftwork.cli.common import REMOTE, StateDirOption, console, fail, handle_errors, resolve_state_dir
from shiftwork.config import ENV_API_TOKEN, ENV_API_URL
from shiftwork.errors import InvalidSpec

if TYPE_CHECKING:
    from shiftwork.local.stack import StackInfo

DEFAULT_PORT = 8501  # Streamlit's own
START_SECONDS = 60.0  # Streamlit imports a lot on a busy machine
STOP_SECONDS = 10.0


@handle_errors
def dashboard(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to serve on (0 picks a free one).")
    ] = DEFAULT_PORT,
    address: Annotated[
        str, typer.Option("--address", help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    state_dir: StateDirOption = None,
) -> None:
    """Open the dashboard on the running `shiftwork up` (or on --endpoint's API) until Ctrl-C."""
    endpoint, token = dashboard_api(state_dir)
    port = free_port(address) if port == 0 else checked_port(address, port)
    stopping = stop_signals()  # before Streamlit starts: a Ctrl-C while it starts stops it cleanly too
    process = start_streamlit(endpoint, token, address, port)
    try:
        if wait_until_healthy(process, port, stopping):
            host = "localhost" if address in ("0.0.0.0", "::") else address
            url = f"http://{host}:{port}"
            console.print(
                f"[bold green]dashboard[/]: {url} on the API at {endpoint} (Ctrl-C stops it)", highlight=False
            )
            sys.stdout.flush()
            while not stopping.is_set() and process.poll() is None:
                stopping.wait(0.2)
    finally:
        stop(process)
    if not stopping.is_set():
        raise fail(f"streamlit exited with code {process.returncode}", 1)


def dashboard_api(state_dir: Path | None) -> tuple[str, str | None]:
    """The API the dashboard talks to and its token (None: SigV4): --endpoint's, else the running `up`'s."""
    from shiftwork.connection import client_for

    if REMOTE.endpoint is not None:
        client = client_for(REMOTE.endpoint, REMOTE.token, state_dir)
    else:
        directory = resolve_state_dir(state_dir)
        info = running_api(directory)
        if info is None or not info.api_url:
            busy = "" if info is None else f" (pid {info.pid} holds it for one command, with no REST API)"
            raise fail(
                f"no `shiftwork up` is running over {directory}{busy}. Start one in another terminal: "
                f"`shiftwork up{_state_dir_flag(state_dir)}`, then run this again; or open a deployed stack's "
                "dashboard with `shiftwork --endpoint URL dashboard` (or SHIFTWORK_API_URL=URL)",
                2,
            )
        client = client_for(info.api_url, None, directory)
    client.settings  # noqa: B018  one call now: a wrong URL, token or credentials fail here, not in the browser
    return client.endpoint, client.token


def running_api(directory: Path) -> StackInfo | None:
    """The stack running over directory; an `up` still starting is waited for until it publishes its API."""
    from shiftwork.local.stack import running_stack

    deadline = time.monotonic() + START_SECONDS
    info = running_stack(directory)
    while info is not None and info.mode == "up" and not info.api_url and time.monotonic() < deadline:
        time.sleep(0.1)
        info = running_stack(directory)
    return info


def _state_dir_flag(state_dir: Path | None) -> str:
    return "" if state_dir is None else f" --state-dir {state_dir}"


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def checked_port(address: str, port: int) -> int:
    """`port`, if nothing listens on it; else InvalidSpec naming it (Streamlit's own error is buried in its log)."""
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError as error:
            raise InvalidSpec("--port", port, f"{error.strerror}: pick another, or --port 0 for a free one") from None
    return port


def streamlit_command(address: str, port: int) -> list[str]:
    app = files("dashboard") / "app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",  # installed code: nothing to reload, no watcher thread
        "--client.toolbarMode",
        "viewer",  # the users' menu, without Streamlit's developer options (Deploy, rerun on save)
    ]


def start_streamlit(endpoint: str, token: str | None, address: str, port: int) -> subprocess.Popen[bytes]:
    """Streamlit in a session of its own: a Ctrl-C reaches this command, which stops it in order."""
    environment = {**os.environ, ENV_API_URL: endpoint}
    environment.pop(ENV_API_TOKEN, None)
    if token is not None:
        environment[ENV_API_TOKEN] = token
    return subprocess.Popen(
        streamlit_command(address, port),
        env=environment,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # fine: this command runs no threads
    )


def _die_with_parent() -> None:
    """In the child: SIGTERM when this command dies, even by SIGKILL, so no Streamlit outlives it (Linux)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_signals() -> threading.Event:
    """Set by Ctrl-C or SIGTERM."""
    stopping = threading.Event()
    # explicit for SIGINT too: a process started in the background inherits SIGINT ignored
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    return stopping


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, stopping: threading.Event) -> bool:
    """Until Streamlit answers /_stcore/health (True) or a signal came (False); a Streamlit that exits or never
    answers is the error."""
    import urllib3

    http = urllib3.PoolManager(retries=False, timeout=2.0)
    deadline = time.monotonic() + START_SECONDS
    while not stopping.is_set():
        if process.poll() is not None:
            raise fail(f"streamlit exited with code {process.returncode} before serving (its output is above)", 1)
        if time.monotonic() > deadline:
            raise fail(f"streamlit did not answer on port {port} within {START_SECONDS:.0f} s", 1)
        try:
            if http.request("GET", f"http://127.0.0.1:{port}/_stcore/health").data == b"ok":
                return True
        except urllib3.exceptions.HTTPError:
            pass
        stopping.wait(0.2)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Streamlit closes its sessions and exits), then SIGKILL if it does not within STOP_SECONDS."""
    if process.poll() is not None:
        return
    console.print("stopping the dashboard...")
    process.terminate()
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
