"""`shiftwork schedule preview|compile`: see exactly when a schedule fires, and what EventBridge will be given."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from shiftwork.cli.common import JsonOption, console, handle_errors

schedule_app = typer.Typer(help="Preview and compile schedules.", no_args_is_help=True)

ScheduleArgument = Annotated[
    str,
    typer.Argument(help='Unix cron ("0 9 * * mon-fri"), cron(...)/rate(...)/at(...), or a JSON trigger.'),
]
TimezoneOption = Annotated[str, typer.Option("--tz", help="IANA time zone of the wall-clock times.")]


def _start(start: str | None, timezone: str) -> datetime:
    from shiftwork.schedules.parse import parse_moment
    from shiftwork.schedules.triggers import utc_now

    return parse_moment(start, timezone, "--start") if start else utc_now()


@schedule_app.command("preview")
@handle_errors
def preview(
    schedule: ScheduleArgument,
    tz: TimezoneOption = "UTC",
    count: Annotated[int, typer.Option("--count", min=1, max=100_000, help="How many fire times.")] = 10,
    start: Annotated[
        str | None, typer.Option("--start", help="Wall time in --tz to start from, inclusive [default: now]")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """When the schedule fires, from --start on."""
    from shiftwork.schedules.preview import preview_schedule

    shown = preview_schedule(schedule, tz, count, start, start_field="--start")
    local = shown.fires
    fires = [moment.astimezone(UTC) for moment in local]
    begin = shown.start
    if as_json:
        print(json.dumps([moment.isoformat() for moment in local]))
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("#", f"{tz}", "UTC", "weekday"):
        table.add_column(column)
    for index, moment in enumerate(local, start=1):
        table.add_row(
            str(index), moment.isoformat(), fires[index - 1].strftime("%Y-%m-%d %H:%M:%S"), moment.strftime("%a")
        )
    console.print(table)
    console.print(f"[dim]{shown.in_words}[/]", highlight=False)
    if len(fires) < count:
        console.print(f"[dim]it fires only {len(fires)} time(s) after {begin.isoformat()}[/]")


@schedule_app.command("compile")
@handle_errors
def compile_schedule(
    schedule: ScheduleArgument,
    tz: TimezoneOption = "UTC",
    start: Annotated[str | None, typer.Option("--start", help="Compile as of this wall time [default: now]")] = None,
    as_json: JsonOption = False,
) -> None:
    """The EventBridge Scheduler schedules that fire exactly when the schedule does."""
    from shiftwork.schedules import compile_to_eventbridge, parse_trigger

    begin = _start(start, tz)
    compiled = compile_to_eventbridge(parse_trigger(schedule, tz, now=begin), now=begin)
    if as_json:
        print(json.dumps([c.to_dict() for c in compiled]))
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("kind", "expression", "timezone", "start", "end"):
        table.add_column(column)
    for c in compiled:
        table.add_row(
            c.kind,
            c.expression,
            c.timezone,
            c.start_date.isoformat() if c.start_date else "-",
            c.end_date.isoformat() if c.end_date else "-",
        )
    console.print(table)
    if any(c.kind == "rearm" for c in compiled):
        console.print("[dim]rearm: a one-shot at() for the next fire, re-armed by the dispatcher after each fire[/]")
