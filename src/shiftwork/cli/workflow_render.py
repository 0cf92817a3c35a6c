"""How workflow runs look in a terminal: the tasks' states, the runs list, run details with a text Gantt."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from rich.console import Group
from rich.table import Table
from rich.text import Text

from shiftwork.cli.render import duration, styled_status, when
from shiftwork.models.workflow import TaskStatus

if TYPE_CHECKING:
    from shiftwork.models import DescribeJob, DescribeJobDefinition
    from shiftwork.models.workflow import DescribeTask, RunDetails, TaskDetails

TASK_STYLE = {
    TaskStatus.PENDING: "dim",
    TaskStatus.QUEUED: "cyan",
    TaskStatus.IN_PROGRESS: "yellow",
    TaskStatus.COMPLETED: "green",
    TaskStatus.FAILED: "bold red",
    TaskStatus.STOPPED: "magenta",
    TaskStatus.UPSTREAM_FAILED: "red",
}
WAITING, RUNNING = "░", "█"  # the Gantt's provisioning (queued to started) and running (started to ended)
GANTT_WIDTH = 48


def task_status(status: TaskStatus) -> str:
    return f"[{TASK_STYLE[status]}]{status.value}[/]"


def _seconds(start: int | None, end: int | None) -> str:
    if start is None:
        return "-"
    return f"{((end or int(time.time() * 1000)) - start) / 1000:.1f} s"


def tasks_table(tasks: list[DescribeTask]) -> Table:
    """Each task's state while a run goes on (the live table of `--wait`)."""
    table = Table(show_edge=False, header_style="bold")
    for column in ("Task", "Status", "Attempt", "Executor", "Started", "Duration"):
        table.add_column(column, no_wrap=True)
    for task in tasks:
        attempt = f"{task.attempt}/{task.max_attempts}"
        reused = " [dim](reused)[/]" if task.reused_from else ""
        started = when(task.start_time) if task.start_time else "-"
        table.add_row(
            task.task_id, task_status(task.status) + reused, attempt, task.executor.value, started,
            _seconds(task.start_time, task.end_time) if task.start_time else "-",
        )  # fmt: skip
    return table


def done_of(tasks: list[DescribeTask]) -> str:
    """Tasks ended / all tasks, as the runs list shows them."""
    return f"{sum(task.is_terminal for task in tasks)}/{len(tasks)}"


def runs_table(runs: list[tuple[DescribeJob, list[DescribeTask]]]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("Run ID", "Name", "Status", "Tasks", "Started", "Duration"):
        table.add_column(column, no_wrap=column in ("Run ID", "Started"))
    for run, tasks in runs:
        name = run.name + (f" [dim](rerun of {run.original_run_id[:8]})[/]" if run.original_run_id else "")
        table.add_row(run.job_id, name, styled_status(run.status), done_of(tasks), when(run.start_time), duration(run))
    return table


def summary(run: DescribeJob, tasks: list[DescribeTask]) -> str:
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.status.value] = counts.get(task.status.value, 0) + 1
    states = ", ".join(f"{count} {status}" for status, count in counts.items())
    line = f"run [bold]{run.job_id}[/] {styled_status(run.status)} in {duration(run)}: {states}"
    if run.status_message and run.status.value != "COMPLETED":
        line += f"\n  {run.status_message}"
    return line


def _resources(task: TaskDetails) -> str:
    if task.sizing:  # rounded up to a Fargate size: both shown
        return task.sizing
    return (task.resources or task.requested).describe()


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:.5f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def details_table(details: RunDetails) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("Task", "Status", "Attempt", "Resources", "Launch", "Run", "Cost"):
        justify: Literal["left", "right"] = "right" if column in ("Launch", "Run", "Cost") else "left"
        table.add_column(column, no_wrap=column != "Resources", justify=justify)
    for task in details.tasks:
        status = task_status(task.status) + (" [dim](reused)[/]" if task.reused_from else "")
        table.add_row(
            task.task_id, status, f"{task.attempt}/{task.max_attempts}", _resources(task),
            _num(task.launch_seconds), _num(task.run_seconds), _money(task.cost_usd),
        )  # fmt: skip
    table.add_section()
    table.add_row(
        "total", "", "", "", _num(details.launch_seconds_total), _num(details.run_seconds_total),
        _money(details.total_cost_usd),
    )  # fmt: skip
    return table


def gantt(tasks: list[TaskDetails], width: int = GANTT_WIDTH) -> Table:
    """One bar per task on a shared time axis: ░ from queued to started (provisioning), █ from started to ended."""
    now = int(time.time() * 1000)
    moments = [m for t in tasks for m in (t.submit_time, t.provision_time, t.start_time, t.end_time) if m]
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    if not moments:
        table.add_row("", "[dim]no task has started yet[/]")
        return table
    running = any(t.start_time and not t.end_time for t in tasks)
    origin, last = min(moments), max(moments) if not running else max(*moments, now)
    scale = max(last - origin, 1) / width

    def column(moment: int) -> int:
        return min(width, round((moment - origin) / scale))

    for task in tasks:
        bar = Text(" " * width)
        queued = task.submit_time or task.provision_time or task.start_time
        if queued is not None:
            started = task.start_time or task.end_time or now
            bar = _bar(column(queued), column(started), column(task.end_time or now) if task.start_time else None)
        note = " reused" if task.reused_from else ""
        table.add_row(task.task_id, Text.assemble(bar, (note, "dim")))
    table.add_row("", Text(f"0 s{' ' * (width - 12)}{(last - origin) / 1000:>8.1f} s", style="dim"))
    return table


def _bar(queued: int, started: int, ended: int | None) -> Text:
    """Waiting from queued to started, running from started to ended (at least one cell once it has started)."""
    text = Text(" " * queued)
    text.append(WAITING * max(started - queued, 0), style="cyan")
    if ended is not None:
        text.append(RUNNING * max(ended - started, 1), style="green")
    return text


def run_report(details: RunDetails) -> Group:
    run: Any = details.run
    run_id, status = (run["job_id"], run["status"]) if isinstance(run, dict) else (run.job_id, run.status.value)
    head = f"run [bold]{run_id}[/]  {status}"
    if details.wall_seconds is not None:
        head += f"  wall {details.wall_seconds:.1f} s"
    head += f"  estimated cost ${details.total_cost_usd:.5f}"
    if details.reused:
        head += f"  ({details.reused} task{'s' * (details.reused > 1)} reused)"
    legend = f"[dim]{WAITING} queued/provisioning   {RUNNING} running[/]"
    return Group(Text.from_markup(head), details_table(details), Text(""), legend, gantt(details.tasks))


def schedule_in_words(definition: DescribeJobDefinition) -> str:
    """A schedule as a sentence, and as it was written: what the dashboard and `schedule preview` say too."""
    if not definition.schedule:
        return "none (on demand)"
    from shiftwork.schedules import trigger_from_dict
    from shiftwork.schedules.preview import in_words

    if not definition.trigger:
        return f"{definition.schedule} ({definition.timezone})"
    return in_words(trigger_from_dict(definition.trigger, definition.timezone), definition.timezone)


def definition_detail(definition: DescribeJobDefinition) -> Table:
    from datetime import UTC, datetime

    from shiftwork.schedules import trigger_from_dict
    from shiftwork.schedules.dst import zone

    spec = definition.workflow or {}
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("Definition", definition.job_definition_id),
        ("Name", definition.name),
        ("Version", str(definition.version)),
        ("Workflow", f"{spec.get('function', '-')} ({definition.input_filename})"),
        ("Tasks", ", ".join(task["name"] for task in spec.get("tasks", [])) or "-"),
        ("Schedule", schedule_in_words(definition)),
        ("Parameters", ", ".join(f"{k}={v!r}" for k, v in definition.parameters.items()) or "-"),
        ("State", "[green]active[/]" if definition.active else "[magenta]paused[/]"),
    ]
    if definition.active and definition.trigger:
        trigger = trigger_from_dict(definition.trigger, definition.timezone)
        for index, fire in enumerate(trigger.preview(datetime.now(UTC), 3)):
            rows.append(("Next" if index == 0 else "", fire.astimezone(zone(definition.timezone)).isoformat()))
    for label, value in rows:
        table.add_row(label, value)
    return table
