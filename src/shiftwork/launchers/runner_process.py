"""The runner processes the LocalLauncher starts: each in its own session and scratch folder (its TMPDIR, as a
container has its own /tmp), and recorded on disk, so that a later stack can kill one a killed stack left running."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


def spawn_runner(
    python: str, scratch_dir: Path, environment: dict[str, str], *, warm: bool = False, light: bool = False
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `python -m shiftwork.runner` (`--warm`: one that waits for its job; `--warm-task`: for a workflow
    task, without papermill or a kernel) with a new scratch as TMPDIR."""
    scratch = Path(tempfile.mkdtemp(prefix="warm-" if warm else "job-", dir=scratch_dir))
    try:
        process = subprocess.Popen(
            [python, "-m", "shiftwork.runner", *([("--warm-task" if light else "--warm")] if warm else [])],
            env={**environment, "TMPDIR": str(scratch)},
            stdin=subprocess.PIPE if warm else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stop reaches the kernel it starts
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return process, scratch


@dataclass
class WarmRunner:
    """A runner started before its job is known: it imports papermill and starts a kernel meanwhile."""

    process: subprocess.Popen[bytes]
    scratch: Path

    @classmethod
    def spawn(cls, python: str, scratch_dir: Path, light: bool = False) -> WarmRunner:
        return cls(*spawn_runner(python, scratch_dir, dict(os.environ), warm=True, light=light))

    def hand_over(self, environment: dict[str, str]) -> bool:
        """Give it its job's environment (its own TMPDIR kept); False if it is no longer there to take it."""
        if self.process.poll() is not None or self.process.stdin is None:
            return False
        try:
            self.process.stdin.write(json.dumps({**environment, "TMPDIR": str(self.scratch)}).encode() + b"\n")
            self.process.stdin.close()
        except BrokenPipeError:
            return False
        return True

    def discard(self) -> None:
        """Kill it unused (its kernel follows: it watches its parent) and remove its scratch."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def process_start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a live pid from a reused one)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def record_process(record: Path, pid: int) -> None:
    """Note the process in `record`, so a later stack can tell whether that very process still runs."""
    record.write_text(json.dumps({"pid": pid, "start_ticks": process_start_ticks(pid)}))


def kill_recorded_process(record: Path) -> bool:
    """Kill the process group a task record names, if that very process still runs; remove the record."""
    try:
        data = json.loads(record.read_text())
        if process_start_ticks(data["pid"]) == data["start_ticks"]:
            os.killpg(data["pid"], signal.SIGKILL)
            return True
    except (OSError, ValueError, KeyError):
        pass
    finally:
        record.unlink(missing_ok=True)
    return False


def kill_leftover_runners(tasks_dir: Path) -> None:
    """No runner outlives its stack: kill those an earlier (killed) stack left running."""
    for record in tasks_dir.glob("*.json"):
        if kill_recorded_process(record):
            log.warning("killed runner process left by an earlier stack (%s)", record.stem)
