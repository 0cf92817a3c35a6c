"""Definitions through the CLI: scheduled with `up` running, and owed after `up` was down."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Cli, stop_up, wait_for_stack
from tests.helpers import ROOT

HELLO = str(ROOT / "examples" / "hello.ipynb")


def _jobs_of(cli, definition_id):
    return cli.json("jobs", "--definition", definition_id)


def _wait(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_schedule_preview_and_compile(cli):
    preview = cli(
        "schedule",
        "preview",
        "0 9 * * mon-fri",
        "--tz",
        "Europe/London",
        "--count",
        "3",
        "--start",
        "2026-03-27T00:00",
        "--json",
    )
    assert json.loads(preview.stdout) == [
        "2026-03-27T09:00:00+00:00",
        "2026-03-30T09:00:00+01:00",
        "2026-03-31T09:00:00+01:00",
    ]
    compiled = cli("schedule", "compile", "0 9 * * mon-fri", "--tz", "Europe/London", "--json")
    assert json.loads(compiled.stdout) == [
        {"kind": "cron", "expression": "cron(0 9 ? * 2-6 *)", "timezone": "Europe/London"}
    ]
    bad = cli("schedule", "preview", "0 25 * * *")
    assert bad.returncode == 2
    assert "hour field '25': is out of range 0-23" in bad.stderr


def test_definition_lifecycle_and_scheduled_runs(tmp_path):
    cli = Cli(tmp_path / "state")
    bad = cli("definitions", "create", HELLO, "--schedule", "0 9 * * *", "--tz", "Moon/Base")
    assert bad.returncode == 2 and "timezone 'Moon/Base'" in bad.stderr
    started = time.monotonic()
    assert cli.json("definitions", "list") == []
    # a one-shot set in the past never fires: its time leaves room for the commands before it, as slow as this
    # machine is now (a command that embeds a stack, just measured, is the yardstick)
    command_seconds = time.monotonic() - started

    up = cli.start("up")
    wait_for_stack(cli.state_dir, up)
    try:
        run_at = (datetime.now(UTC) + timedelta(seconds=max(10, 3 * command_seconds))).replace(microsecond=0)
        schedule = json.dumps({"type": "date", "run_date": run_at.isoformat()})
        soon = cli.json(
            "definitions", "create", HELLO, "--schedule", schedule, "-p", "name=Scheduled", "--name", "soon"
        )
        assert soon["compiled"][0]["kind"] == "at"
        daily = cli.json(
            "definitions",
            "create",
            HELLO,
            "--schedule",
            "0 9 * * mon-fri",
            "--tz",
            "Europe/London",
            "-p",
            "name=World",
            "--name",
            "daily-hello",
        )
        assert [d["name"] for d in cli.json("definitions", "list")] == ["daily-hello", "soon"]

        job = _wait(lambda: [j for j in _jobs_of(cli, soon["job_definition_id"]) if j["status"] == "COMPLETED"])[0]
        assert job["scheduled_time"] == run_at.isoformat()
        assert job["parameters"] == {"name": "Scheduled"}
        assert "Hello, Scheduled!" in cli("job", "logs", job["job_id"]).stdout

        ran = cli.json("definitions", "run", daily["job_definition_id"], "-p", "name=Now")
        assert ran["job_definition_version"] == 1
        updated = cli.json("definitions", "update", daily["job_definition_id"], "--schedule", "30 8 * * *")
        assert updated["version"] == 2
        assert cli("definitions", "pause", daily["job_definition_id"]).returncode == 0
        assert cli.json("definitions", "show", daily["job_definition_id"])["active"] is False
        assert cli("definitions", "resume", daily["job_definition_id"], "--from", "now").returncode == 0
        assert cli("definitions", "delete", daily["job_definition_id"]).returncode == 0
        assert cli("definitions", "show", daily["job_definition_id"]).returncode == 1
        assert _wait(lambda: cli.json("job", "show", ran["job_id"])["status"] == "COMPLETED")
    finally:
        stop_up(up)

    # while no stack runs, two definitions fire; the next `up` owes them and applies their policies
    # two creates, each embedding a stack, must be done before it
    run_at = (datetime.now(UTC) + timedelta(seconds=max(15, 5 * command_seconds))).replace(microsecond=0)
    schedule = json.dumps({"type": "date", "run_date": run_at.isoformat()})
    owed = cli.json("definitions", "create", HELLO, "--schedule", schedule, "--name", "owed")
    strict = cli.json(
        "definitions", "create", HELLO, "--schedule", schedule, "--name", "strict", "--misfire-grace-time", "2"
    )
    time.sleep(max(0.0, (run_at - datetime.now(UTC)).total_seconds()) + 4)  # the stack is down at run_at
    up = cli.start("up")
    wait_for_stack(cli.state_dir, up)
    try:
        done = _wait(lambda: [j for j in _jobs_of(cli, owed["job_definition_id"]) if j["status"] == "COMPLETED"])
        assert done[0]["scheduled_time"] == run_at.isoformat()
        [skipped] = _wait(lambda: _jobs_of(cli, strict["job_definition_id"]))
        assert skipped["status"] == "SKIPPED"
        assert skipped["status_message"].startswith("missed start deadline")
    finally:
        stop_up(up)
