"""Stress: `shiftwork up` with two parallel jobs, rounds of jobs that succeed, fail, time out and are stopped, all at
once and from several terminals. Every job ends with the status its notebook earns, every command exits as
documented, and no output (nor `up`'s log) shows a traceback."""

from __future__ import annotations

import json
import os
import random
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, output_of, stop_up, wait_for_stack
from tests.helpers import write_notebook

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(540)]

# The scale: every kind of job in each round, and two rounds so that what the stack holds after the first can be
# compared with what it holds after the last (a leak grows per round). STRESS_ROUNDS=10 for a longer soak.
ROUNDS = int(os.environ.get("STRESS_ROUNDS", "2"))
JOBS_PER_ROUND = 20  # 40 in all by default
KINDS = ["ok"] * 7 + ["fail"] * 4 + ["timeout"] * 3 + ["stop"] * 3 + ["ok-wait", "fail-wait", "stop-wait"]
TIMEOUT = 2
TERMINAL = {"COMPLETED", "FAILED", "STOPPED"}


# a line of a Python traceback through our code or a library's: never in what a command prints
FRAMEWORK_FRAME = re.compile(r'File "[^"]*(/shiftwork/|/site-packages/|/lib/python3\.\d+/)')


def _notebooks(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    return {
        "ok": write_notebook(folder / "ok.ipynb", "n = 0", "print('done', n)"),
        "fail": write_notebook(folder / "fail.ipynb", "n = 0", "raise ValueError(f'bad row {n}')"),
        "slow": write_notebook(folder / "slow.ipynb", "n = 0", "import time\ntime.sleep(90)"),
    }


def _expected(kind: str, n: int) -> tuple[str, str | None]:
    """The status and (a part of) the status message a job of this kind must end with."""
    if kind.startswith("ok"):
        return "COMPLETED", None
    if kind.startswith("fail"):
        return "FAILED", f"ValueError: bad row {n}"
    if kind == "timeout":
        return "FAILED", f"timed out after {TIMEOUT} s"
    return "STOPPED", "stopped by user"


class Commands:
    """Every command the test runs, so that each one's output can be checked for tracebacks."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        self.outputs: list[str] = []

    def __call__(self, *args: str) -> tuple[int, str]:
        result = self.cli(*args, timeout=120)
        self.outputs.append(f"$ shiftwork {' '.join(args)}\n{result.stdout}{result.stderr}")
        return result.returncode, result.stdout


def _play(run: Commands, notebooks: dict[str, Path], kind: str, n: int) -> tuple[str, int, int | None]:
    """What a user does with one job: start it (and wait, or stop it); the job's id and the commands' exit codes."""
    notebook = notebooks["slow" if kind.startswith(("timeout", "stop")) else kind.removesuffix("-wait")]
    name = f"{kind}-{n}"
    args = ["run", str(notebook), "-p", f"n={n}", "--name", name]
    if kind == "timeout":
        args += ["--timeout", str(TIMEOUT)]
    if kind.endswith("-wait"):
        args.append("--wait")
    if kind == "stop-wait":  # one terminal waits for the job, another stops it
        with ThreadPoolExecutor(1) as waiting:
            waited = waiting.submit(run, *args)
            job_id = _job_named(run, name, waited)
            stop_code = run("job", "stop", job_id)[0]
            return job_id, waited.result()[0], stop_code
    code, out = run(*args)
    match = re.search(r"job ([0-9a-f-]{36})", out)
    assert match, out
    stop_code = None
    if kind == "stop":
        time.sleep(random.Random(n).uniform(0, 3))  # some are stopped while queued, some while running
        stop_code = run("job", "stop", match.group(1))[0]
    return match.group(1), code, stop_code


def _job_named(run: Commands, name: str, waited: Future[tuple[int, str]]) -> str:
    """The id of the job a `run --wait` still running in another terminal started, found by its name."""
    while True:
        code, out = run("jobs", "--json")
        found = [j["job_id"] for j in json.loads(out) if j["name"] == name] if code == 0 else []
        if found:
            return found[0]
        assert not waited.done(), waited.result()
        time.sleep(1)


def _threads_and_fds(pid: int) -> tuple[int, int]:
    """What a stack that forgot nothing would accumulate: threads and open files."""
    return len(list(Path(f"/proc/{pid}/task").iterdir())), len(list(Path(f"/proc/{pid}/fd").iterdir()))


def test_rounds_of_mixed_jobs_all_end_as_they_should(tmp_path):
    cli = Cli(tmp_path / "state")
    run = Commands(cli)
    notebooks = _notebooks(tmp_path / "notebooks")
    up = cli.start("up", SHIFTWORK_MAX_PARALLEL_JOBS="2")  # as a user sets it
    wait_for_stack(cli.state_dir, up)
    held_after_round = []
    started = time.monotonic()
    try:
        for round_number in range(ROUNDS):
            kinds = random.Random(round_number).sample(KINDS, len(KINDS))
            numbers = [round_number * JOBS_PER_ROUND + i for i in range(JOBS_PER_ROUND)]
            with ThreadPoolExecutor(4) as pool:  # four terminals at once
                played = list(pool.map(lambda kn: _play(run, notebooks, *kn), zip(kinds, numbers, strict=True)))
            for kind, (_, run_code, stop_code) in zip(kinds, played, strict=True):
                assert run_code == (1 if kind in ("fail-wait", "stop-wait") else 0), (
                    kind
                )  # `run --wait`: 1 unless COMPLETED
                assert stop_code == (0 if kind.startswith("stop") else None), kind

            ids = {job_id: (kind, n) for (job_id, _, _), kind, n in zip(played, kinds, numbers, strict=True)}
            jobs = _wait_all_terminal(cli, set(ids))
            for job_id, (kind, n) in ids.items():
                status, message = _expected(kind, n)
                assert (jobs[job_id]["status"], kind) == (status, kind), jobs[job_id]["status_message"]
                if message:
                    assert message in jobs[job_id]["status_message"], (kind, jobs[job_id]["status_message"])
            held_after_round.append(_threads_and_fds(up.pid))
    finally:
        elapsed = time.monotonic() - started
        stop_up(up)
    print(f"stress: {ROUNDS} rounds, {ROUNDS * JOBS_PER_ROUND} jobs in {elapsed:.1f} s")

    for output in run.outputs:  # a failed notebook's own traceback is the user's (job show, error_traceback)
        assert not FRAMEWORK_FRAME.search(output) and "Exception in thread" not in output, output
    assert "Traceback" not in output_of(up), output_of(up)
    (threads, fds), (threads_end, fds_end) = held_after_round[0], held_after_round[-1]
    assert threads_end <= threads + 2 and fds_end <= fds + 4, held_after_round  # finished tasks leave nothing
    assert list((cli.state_dir / "scratch").iterdir()) == []  # every job's scratch removed, the warm runner's too


def _wait_all_terminal(cli: Cli, job_ids: set[str], timeout: float = 150) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = {j["job_id"]: j for j in cli.json("jobs", "--limit", "1000") if j["job_id"] in job_ids}
        if len(jobs) == len(job_ids) and all(j["status"] in TERMINAL for j in jobs.values()):
            return jobs
        pending = sorted(f"{j['name']}: {j['status']}" for j in jobs.values() if j["status"] not in TERMINAL)
        assert time.monotonic() < deadline, f"not terminal after {timeout} s: {pending}"
        time.sleep(2)
