"""Schedules: preview speed against croniter and APScheduler, and AWS API calls per dispatched job.

1. Time to compute 1,000 fire times, ours against croniter (Unix cron) and APScheduler 3 (cron, interval,
   calendar interval) on the same expressions, median of 5 runs each, as ratios (ours / theirs).
2. AWS API calls the dispatcher makes for one scheduled fire, counted with botocore's before-call event on every
   botocore session in the process (boto3's and pynamodb's), against moto server. The floor is 2: record the
   job, launch its task.

    python bench/schedules.py
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

START = datetime(2026, 1, 1, tzinfo=UTC)
COUNT = 1000


def _median_seconds(function, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def preview_ratios() -> list[tuple[str, str, float, float]]:
    from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger as ApsCalendar
    from apscheduler.triggers.cron import CronTrigger as ApsCron
    from apscheduler.triggers.interval import IntervalTrigger as ApsInterval
    from croniter import croniter

    from shiftwork.schedules import parse_trigger

    def ours(text: str, timezone: str = "UTC"):
        return lambda: list(itertools.islice(parse_trigger(text, timezone, now=START).fire_times(START), COUNT))

    def with_croniter(expression: str):
        def run() -> None:
            iterator = croniter(expression, START)
            for _ in range(COUNT):
                iterator.get_next(datetime)

        return run

    def with_apscheduler(trigger):
        def run() -> None:
            previous, now = None, START
            for _ in range(COUNT):
                previous = trigger.get_next_fire_time(previous, now)
                now = previous

        return run

    rows = []
    for expression in ("*/15 * * * *", "0 9 * * mon-fri", "30 2 * * *", "0 12 L * *"):
        rows.append(
            (expression, "croniter", _median_seconds(ours(expression)), _median_seconds(with_croniter(expression)))
        )
    rows.append(
        (
            "0 9 * * mon-fri",
            "APScheduler cron",
            _median_seconds(ours("0 9 * * mon-fri")),
            _median_seconds(with_apscheduler(ApsCron.from_crontab("0 9 * * mon-fri", timezone="UTC"))),
        )
    )
    rows.append(
        (
            "interval 90 minutes",
            "APScheduler interval",
            _median_seconds(ours('{"type": "interval", "minutes": 90, "start_date": "2026-01-01T00:00:00Z"}')),
            _median_seconds(with_apscheduler(ApsInterval(minutes=90, start_date=START, timezone="UTC"))),
        )
    )
    rows.append(
        (
            "calendarinterval 1 day",
            "APScheduler calendar",
            _median_seconds(ours('{"type": "calendarinterval", "days": 1, "hour": 9, "start_date": "2026-01-01"}')),
            _median_seconds(with_apscheduler(ApsCalendar(days=1, hour=9, start_date="2026-01-01", timezone="UTC"))),
        )
    )
    return rows


def api_calls_per_fire() -> dict[str, Counter[str]]:
    """Dispatch scheduled fires on the embedded stack and count the AWS calls each makes."""
    import nbformat

    from shiftwork import aws
    from shiftwork.api.service import Service
    from shiftwork.dispatch.fire import handle_schedule_fired
    from shiftwork.launchers import FargateLauncher
    from shiftwork.local.stack import EmbeddedStack
    from shiftwork.models import CreateJobDefinition
    from shiftwork.store import definitions
    from shiftwork.store.tables import DefinitionRecord, JobRecord, bound

    results: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        stack = EmbeddedStack(Path(scratch) / "state", run_jobs=False).start()
        try:
            stack.ensure_ecs()
            notebook = Path(scratch) / "nb.ipynb"
            nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), str(notebook))
            service = Service()
            launcher = FargateLauncher()
            calls: Counter[str] = Counter()

            def count(model, **_kwargs) -> None:  # botocore's before-call event
                calls[f"{model.service_model.service_name}.{model.name}"] += 1

            aws.clear_clients()  # clients copy their session's handlers when made: register, then make them
            aws._shared_session()._session.register("before-call", count)
            for model in (JobRecord, DefinitionRecord):  # pynamodb keeps its own botocore client per table
                bound(model)._get_connection().connection.client.meta.events.register("before-call", count)
            for label, schedule in (
                ("cron schedule", "*/15 * * * *"),
                ("rearm schedule (calendar interval)", '{"type": "calendarinterval", "days": 1, "minute": 15}'),
            ):
                definition = service.definitions.create(
                    CreateJobDefinition(input_uri=str(notebook), schedule=schedule, max_running_jobs=100)
                )
                since = int((datetime.now(UTC) - timedelta(days=3)).timestamp() * 1000)
                definition = definitions.update(definition.job_definition_id, definition.version, active_since=since)
                from shiftwork.schedules import trigger_from_dict

                trigger = trigger_from_dict(definition.trigger, definition.timezone)
                fire = [
                    f
                    for f in itertools.takewhile(
                        lambda f: f <= datetime.now(UTC), trigger.fire_times(datetime.now(UTC) - timedelta(days=2))
                    )
                ][-1]
                calls.clear()
                payload = {
                    "job_definition_id": definition.job_definition_id,
                    "scheduled_time": fire.isoformat(),
                    "execution_id": "bench",
                }
                job = handle_schedule_fired(payload, launcher)
                assert job is not None and job.task_arn, job
                results[label] = Counter(calls)
        finally:
            stack.close()
    return results


def main() -> None:
    console = Console()
    table = Table(title=f"Time to preview {COUNT} fire times (median of 5)")
    for column in ("expression", "against", "ours (ms)", "theirs (ms)", "ratio ours/theirs"):
        table.add_column(column)
    with console.status("previewing..."):
        rows = preview_ratios()
    for expression, against, ours, theirs in rows:
        table.add_row(expression, against, f"{ours * 1000:.1f}", f"{theirs * 1000:.1f}", f"{ours / theirs:.2f}")
    console.print(table)
    with console.status("dispatching scheduled fires against moto server..."):
        calls = api_calls_per_fire()
    table = Table(title="AWS API calls per dispatched job (floor: 2)")
    table.add_column("fire of")
    table.add_column("calls")
    table.add_column("which")
    for label, counter in calls.items():
        table.add_row(label, str(sum(counter.values())), ", ".join(f"{k} x{v}" for k, v in sorted(counter.items())))
    console.print(table)


if __name__ == "__main__":
    main()
