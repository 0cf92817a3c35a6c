"""End to end: the `shiftwork` command in subprocesses, a real kernel, the embedded stack over a temp state dir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SHIFTWORK = str(Path(sys.executable).parent / "shiftwork")


def clean_environment(state_dir: Path) -> dict[str, str]:
    """The user's environment: none of this test process's SHIFTWORK_/AWS_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIFTWORK_", "AWS_"))}
    env["SHIFTWORK_STATE_DIR"] = str(state_dir)
    env["COLUMNS"] = "200"
    return env


@dataclass
class Cli:
    state_dir: Path

    def __call__(
        self, *args: str, timeout: float = 180, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHIFTWORK, *args],
            env={**clean_environment(self.state_dir), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )

    def json(self, *args: str, **kwargs: Any) -> Any:
        result = self(*args, "--json", **kwargs)
        assert result.returncode in (0, 1), result.stderr
        return json.loads(result.stdout)

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """A long-running command (`up`); its output goes to a file beside the state dir, never to a pipe nobody
        reads (a full pipe would block it)."""
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        output = self.state_dir.parent / f"{args[0]}-{time.monotonic_ns()}.log"
        with output.open("w") as sink:
            process = subprocess.Popen(
                [SHIFTWORK, *args],
                env={**clean_environment(self.state_dir), **env},
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        process.output = output  # type: ignore[attr-defined]
        return process


def output_of(process: subprocess.Popen[str]) -> str:
    return Path(process.output).read_text()[-6000:]  # type: ignore[attr-defined]


def wait_for_stack(state_dir: Path, process: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, output_of(process)
        try:
            info = json.loads((state_dir / "stack.json").read_text())
            if info["pid"] == process.pid:
                return info
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError("shiftwork up did not come up")


def stop_up(process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Ctrl-C, as a user stops it; if it does not end in time, what its threads were doing is the failure."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # `up` dumps every thread's stack (faulthandler)
        time.sleep(1)
        process.kill()
        process.wait()
        raise AssertionError(f"shiftwork up did not stop within {timeout} s:\n{output_of(process)}") from None


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI over a fresh state directory, with no stack running (each command embeds one)."""
    return Cli(tmp_path / "state")


@pytest.fixture(scope="module")
def up_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """The CLI over a state directory served by a `shiftwork up` in the background."""
    cli = Cli(tmp_path_factory.mktemp("up") / "state")
    process = cli.start("up")
    wait_for_stack(cli.state_dir, process)
    yield cli
    stop_up(process)


def wait_for_status(cli: Cli, job_id: str, statuses: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = cli.json("job", "show", job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} never reached {statuses}")
