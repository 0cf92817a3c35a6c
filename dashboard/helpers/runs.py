"""Workflow runs as the dashboard shows them: the runs list's rows, a run's DAG as DOT text coloured by task state,
its Gantt's bars (provisioning apart from running) and its tasks' details table. No Streamlit here."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from shiftwork.models import DescribeJob, ListJobsQuery, Status
from shiftwork.models.workflow import DescribeTask, RunDetails, TaskDetails, TaskStatus

# one colour per task state, shared by the graph, its legend and the Gantt
STATE_COLOURS: dict[TaskStatus, str] = {
    TaskStatus.PENDING: "#d9d9d9",
    TaskStatus.QUEUED: "#9ecae1",
    TaskStatus.IN_PROGRESS: "#fdd835",
    TaskStatus.COMPLETED: "#66bb6a",
    TaskStatus.FAILED: "#e53935",
    TaskStatus.STOPPED: "#ab47bc",
    TaskStatus.UPSTREAM_FAILED: "#f4a6a6",
}
DARK_STATES = frozenset({TaskStatus.FAILED, TaskStatus.STOPPED})  # white text reads better on these fills
MAX_INSTANCES_DRAWN = 12  # a mapped task with more instances is one node with its instances' counts
PROVISIONING, RUNNING = "provisioning", "running"
RUNS_PAGE_SIZE = 20


def runs_query(
    status: str | None = None, definition: str | None = None, name: str | None = None, next_token: str | None = None
) -> ListJobsQuery:
    """One page of workflow runs, newest first, with the list's filters (blank ones left out)."""
    return ListJobsQuery(
        kind="workflow",
        status=Status(status) if status else None,
        job_definition_id=definition or None,
        name=name.strip() if name and name.strip() else None,
        next_token=next_token,
        max_items=RUNS_PAGE_SIZE,
    )


def moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def seconds_between(start: int | None, end: int | None, now_ms: int) -> float | None:
    """Seconds from start to end (or to now, while it goes on)."""
    return None if start is None else round(((end or now_ms) - start) / 1000, 1)


def run_row(run: DescribeJob, tasks: list[DescribeTask], now_ms: int) -> dict[str, Any]:
    """One row of the runs list: status, tasks completed and failed, started, duration, what it reruns."""
    counts = Counter(task.status for task in tasks)
    failed = counts[TaskStatus.FAILED] + counts[TaskStatus.UPSTREAM_FAILED] + counts[TaskStatus.STOPPED]
    return {
        "run": run.job_id,
        "name": run.name,
        "status": run.status.value,
        "completed": f"{counts[TaskStatus.COMPLETED]}/{len(tasks)}",
        "failed": failed,
        "started": moment(run.start_time),
        "duration_s": seconds_between(run.start_time, run.end_time, now_ms),
        "rerun_of": run.original_run_id or "",
        "definition": run.job_definition_id or "",
    }


# -- the DAG ------------------------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return json.dumps(text)  # a DOT ID in double quotes, with its quotes and backslashes escaped


def _node(node_id: str, label: str, status: TaskStatus, shape: str = "box") -> str:
    font = "white" if status in DARK_STATES else "black"
    return (
        f'{_quote(node_id)} [label={_quote(label)}, shape={shape}, style="rounded,filled", '
        f'fillcolor="{STATE_COLOURS[status]}", fontcolor={font}, tooltip={_quote(status.value)}];'
    )


def _instances_of(tasks: list[DescribeTask]) -> dict[str, list[DescribeTask]]:
    found: dict[str, list[DescribeTask]] = {}
    for task in tasks:
        if task.map_index is not None:
            found.setdefault(task.name, []).append(task)
    return found


def _instances_label(task: DescribeTask, instances: list[DescribeTask]) -> str:
    """'13 instances: 12 COMPLETED, 1 FAILED' (or just how many, before any has a record)."""
    counts = Counter(instance.status.value for instance in instances)
    states = ", ".join(f"{count} {status}" for status, count in counts.items())
    return f"{task.map_count} instances" + (f": {states}" if states else "")


def dag_dot(tasks: list[DescribeTask]) -> str:
    """The run's DAG in DOT: a node per task filled with its state's colour, an edge per dependency.

    A mapped task is a cluster of its instances (each coloured by its own state), or, past MAX_INSTANCES_DRAWN
    instances, one stacked node saying how many are in which state.
    """
    instances = _instances_of(tasks)
    drawn: dict[str, list[str]] = {}  # a task id -> the node ids its edges meet
    lines = ["digraph run {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];', "  compound=true;"]
    for task in tasks:
        if task.map_index is not None:
            continue
        own = instances.get(task.name, [])
        if task.map_count is None or not own or len(own) > MAX_INSTANCES_DRAWN:
            label = task.task_id if task.map_count is None else f"{task.task_id}\n{_instances_label(task, own)}"
            lines.append("  " + _node(task.task_id, f"{label}\n{_state(task)}", task.status, _shape(task)))
            drawn[task.task_id] = [task.task_id]
            continue
        lines.append(f"  subgraph {_quote('cluster_' + task.task_id)} {{")
        lines.append(f"    label={_quote(f'{task.task_id} (map over {len(own)}): {task.status.value}')};")
        lines.append(f'    style="rounded,bold"; color="{STATE_COLOURS[task.status]}"; penwidth=2;')
        lines += ["    " + _node(i.task_id, f"{i.task_id}\n{_state(i)}", i.status) for i in own]
        lines.append("  }")
        drawn[task.task_id] = [i.task_id for i in own]
    for task in tasks:
        if task.map_index is not None:
            continue
        for upstream in task.upstream:
            for source in drawn.get(upstream, []):
                for target in drawn.get(task.task_id, []):
                    lines.append(f"  {_quote(source)} -> {_quote(target)};")
    lines.append("}")
    return "\n".join(lines)


def _state(task: DescribeTask) -> str:
    return task.status.value + (" (reused)" if task.reused_from else "")


def _shape(task: DescribeTask) -> str:
    if task.map_count is not None:
        return "box3d"  # a stack: a mapped task's instances, drawn as one
    return "note" if task.kind.value == "notebook" else "box"


def legend_html() -> str:
    """The graph's legend: a swatch of each state's colour with its name."""
    swatch = (
        '<span style="display:inline-block;width:0.9em;height:0.9em;border-radius:3px;background:{colour};'
        'border:1px solid #888;margin:0 0.3em 0 0.9em;vertical-align:middle"></span>{state}'
    )
    return "".join(swatch.format(colour=colour, state=state.value) for state, colour in STATE_COLOURS.items())


# -- the Gantt ----------------------------------------------------------------------------------------------------


def gantt_rows(tasks: list[DescribeTask], now_ms: int) -> list[dict[str, Any]]:
    """A bar per task and phase: provisioning (queued to started) and running (started to ended, or now).

    A mapped task's own record spans its instances; the instances' bars are drawn, not the span. A task a rerun
    reused ran in the original run (its times are the original's): it has no bar in this one.
    """
    rows = []
    for task in tasks:
        if (task.map_count is not None and task.map_count > 0) or task.reused_from:
            continue
        queued = task.submit_time or task.provision_time
        if queued is not None and (task.start_time or task.end_time or now_ms) > queued:
            rows.append(_bar(task, PROVISIONING, queued, task.start_time or task.end_time or now_ms))
        if task.start_time is not None:
            rows.append(_bar(task, RUNNING, task.start_time, task.end_time or now_ms))
    return rows


def _bar(task: DescribeTask, phase: str, start: int, end: int) -> dict[str, Any]:
    return {
        "task": task.task_id,
        "phase": phase,
        "state": task.status.value,
        "start": moment(start),
        "end": moment(end),
        "seconds": round((end - start) / 1000, 3),
    }


# -- details ------------------------------------------------------------------------------------------------------


def launched(task: TaskDetails) -> str:
    """What it was launched with: the Fargate (or Lambda) size, and how the request was rounded up to it."""
    if task.resources is None:
        return "-"
    return task.sizing or task.resources.describe()


def details_rows(details: RunDetails) -> list[dict[str, Any]]:
    """The tasks table of a run: state, attempt, executor, requested and launched size, times and cost."""
    return [
        {
            "task": task.task_id,
            "status": task.status.value,
            "attempt": f"{task.attempt}/{task.max_attempts}",
            "executor": task.executor.value,
            "requested": task.requested.describe(),
            "launched": launched(task),
            "provisioning_s": task.launch_seconds,
            "running_s": task.run_seconds,
            "cost_usd": task.cost_usd,
            "reused_from": task.reused_from or "",
        }
        for task in details.tasks
    ]


def log_text(events: list[dict[str, Any]]) -> str:
    return "\n".join(str(event.get("message", "")).rstrip("\n") for event in events)
