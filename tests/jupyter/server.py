"""A real jupyter_server (JupyterLab's) with the jupyter_scheduler extension configured with ShiftworkScheduler,
started as its own process over a Jupyter root of the test's, and driven over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.browser import free_port

SCHEDULER_CLASS = "shiftwork.jupyter.ShiftworkScheduler"


class JupyterServer:
    """A running `jupyter lab` and what a client needs: its URL, its token, its root."""

    def __init__(self, url: str, token: str, root: Path, process: subprocess.Popen[str], log: Path) -> None:
        self.url = url
        self.token = token
        self.root = root
        self.process = process
        self.log = log

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request to the server's REST API; (status, parsed JSON or None)."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, json.loads(raw) if raw.strip() else None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@contextmanager
def jupyter_lab(
    folder: Path,
    *options: str,
    env: dict[str, str] | None = None,
    timeout: float = 90,
    scheduler_class: str = SCHEDULER_CLASS,
) -> Iterator[JupyterServer]:
    """`jupyter lab` over folder/root with ShiftworkScheduler (or scheduler_class), its Jupyter config and data kept
    in `folder`."""
    root = folder / "root"
    root.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), "shiftwork-jupyter-test"
    environment = {
        **(env if env is not None else os.environ),
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_DATA_DIR": str(folder / "data"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",  # CI and this machine run as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--SchedulerApp.scheduler_class={scheduler_class}",
        *options,
    ]
    log = folder / "jupyter.log"
    with log.open("w") as sink:
        process = subprocess.Popen(command, env=environment, stdout=sink, stderr=subprocess.STDOUT, text=True)
    server = JupyterServer(f"http://127.0.0.1:{port}", token, root, process, log)
    try:
        deadline = time.monotonic() + timeout
        while not _serves(server):
            assert process.poll() is None, f"jupyter lab exited {process.returncode}:\n{server.output()}"
            assert time.monotonic() < deadline, f"jupyter lab never served:\n{server.output()}"
            time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serves(server: JupyterServer) -> bool:
    try:
        status, _ = server.call("GET", "/scheduler/config")  # the extension is loaded (it needs no stack)
    except OSError:
        return False
    return status == 200
