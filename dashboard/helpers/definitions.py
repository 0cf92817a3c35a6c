"""The Definitions pages' pure parts: filters as a query, a definition as a table row, parameters as the CLI's
NAME=VALUE lines, an edit form's values as the changes it makes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shiftwork.models import (
    DescribeJob,
    DescribeJobDefinition,
    ListJobDefinitionsQuery,
    SchedulePreview,
    UpdateJobDefinition,
    parse_parameters,
)
from shiftwork.models.parameters import parse_value

PAGE_SIZE = 25  # definitions a page of the table shows
STATES = ("all", "active", "paused")
FIRES_SHOWN = 5


def definitions_query(name: str, state: str, tag: str, next_token: str | None) -> ListJobDefinitionsQuery:
    """The filters as one page's query: name prefix, active/paused, a tag."""
    return ListJobDefinitionsQuery(
        name=name.strip() or None,
        paused={"active": False, "paused": True}.get(state),
        tags=[tag.strip()] if tag.strip() else [],
        max_items=PAGE_SIZE,
        next_token=next_token,
    )


def run_after_text(definition: DescribeJobDefinition, upstream_name: str | None) -> str:
    """ "after <upstream> on success|failure|completion" for a run-after definition."""
    condition = definition.run_after_condition.value if definition.run_after_condition else "on success"
    return f"after {upstream_name or definition.run_after} {condition}"


def when_text(definition: DescribeJobDefinition, preview: SchedulePreview | None, upstream_name: str | None) -> str:
    """When it runs, in words: the schedule's, a run-after's, a watched prefix, or on demand."""
    if definition.run_after:
        return run_after_text(definition, upstream_name)
    if preview is not None:
        return preview.in_words
    if definition.watch_prefix:
        return f"when a file lands under {definition.watch_prefix}"
    return "on demand only"


def fire_text(moment: datetime, timezone: str) -> str:
    """A fire as a row shows it: wall time in the schedule's zone, with the zone's abbreviation (a fire read back
    from JSON has only its offset: the zone gives the name)."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z")


def fires_text(preview: SchedulePreview) -> str:
    """A preview's fires, comma-separated."""
    return ", ".join(fire_text(f, preview.timezone) for f in preview.fires)


def definition_row(
    definition: DescribeJobDefinition,
    preview: SchedulePreview | None,
    last_job: DescribeJob | None,
    upstream_name: str | None = None,
) -> dict[str, Any]:
    """One row of the Definitions table."""
    return {
        "name": definition.name,
        "when": when_text(definition, preview, upstream_name),
        "schedule": definition.schedule or "",
        "timezone": definition.timezone,
        "next fires": [fire_text(f, preview.timezone) for f in preview.fires] if preview else [],
        "state": "active" if definition.active else "paused",
        "version": definition.version,
        "last run": last_job.status.value if last_job else "never ran",
        "kind": definition.kind,
        "tags": ", ".join(definition.tags),
        "id": definition.job_definition_id,
    }


def parameter_text(value: Any) -> str:
    """A value as the CLI's -p VALUE writes it: strings bare unless they would read back as JSON."""
    if isinstance(value, str) and parse_value(value) == value:
        return value
    return json.dumps(value)


def parameters_text(parameters: dict[str, Any]) -> str:
    """Parameters as NAME=VALUE lines (what the editor shows)."""
    return "\n".join(f"{name}={parameter_text(value)}" for name, value in parameters.items())


def read_parameters(text: str) -> dict[str, Any]:
    """NAME=VALUE lines as parameters, VALUE read as `shiftwork ... -p` reads it (JSON when it parses)."""
    return parse_parameters([line.strip() for line in text.splitlines() if line.strip()])


def edit_changes(
    definition: DescribeJobDefinition,
    parameters_lines: str,
    schedule: str,
    timezone: str,
    formats: list[str],
) -> UpdateJobDefinition:
    """The fields an edit changed (the rest stay as they are); raises InvalidSpec or ValidationError on bad input."""
    changes: dict[str, Any] = {}
    parameters = read_parameters(parameters_lines)
    if parameters != definition.parameters:
        changes["parameters"] = parameters
    if schedule.strip() and schedule.strip() != (definition.schedule or ""):
        changes["schedule"] = schedule.strip()
    if timezone.strip() and timezone.strip() != definition.timezone:
        changes["timezone"] = timezone.strip()
    if formats and sorted(set(formats) | {"ipynb"}) != sorted(definition.output_formats):
        changes["output_formats"] = formats
    return UpdateJobDefinition(**changes)


def resume_from(mode: str, moment: datetime | None) -> str:
    """ "now", or a past moment as ISO 8601 (without an offset it is a wall time in the definition's zone): the
    fires since then are owed."""
    if mode == "now" or moment is None:
        return "now"
    return moment.isoformat()


def job_row(job: DescribeJob) -> dict[str, Any]:
    """One of a definition's jobs, as its detail page lists them."""
    return {
        "name": job.name,
        "status": job.status.value,
        "version": job.job_definition_version,
        "created": datetime.fromtimestamp(job.create_time / 1000, UTC),
        "scheduled for": job.scheduled_time or "",
        "parameters": json.dumps(job.parameters) if job.parameters else "",
        "id": job.job_id,
    }


def version_row(definition: DescribeJobDefinition) -> dict[str, Any]:
    """One version of a definition: what it ran and when."""
    return {
        "version": definition.version,
        "made": datetime.fromtimestamp(definition.update_time / 1000, UTC),
        "notebook": definition.input_filename,
        "schedule": definition.schedule or "",
        "timezone": definition.timezone,
        "parameters": json.dumps(definition.parameters) if definition.parameters else "",
        "formats": ", ".join(definition.output_formats),
        "kernel": definition.kernel_name,
    }


def workflow_tasks(definition: DescribeJobDefinition) -> list[dict[str, Any]]:
    """A workflow definition's tasks: what each runs, what it waits for, what it asks for."""
    from shiftwork.models.workflow import WorkflowSpec

    if definition.kind != "workflow" or not definition.workflow:
        return []
    spec = WorkflowSpec.model_validate(definition.workflow)
    return [
        {
            "task": task.name,
            "kind": task.kind.value,
            "runs": task.function or task.notebook or "",
            "after": list(task.upstream),
            "mapped over": task.map_argument or "",
            "resources": task.resources.describe(),
            "retries": task.retries,
            "executor": task.executor.value,
        }
        for task in spec.tasks
    ]


def workflow_dot(tasks: list[dict[str, Any]]) -> str:
    """The tasks as a DOT graph (left to right, an edge from each task to the ones after it)."""
    lines = ["digraph workflow {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb"];']
    for task in tasks:
        lines.append(f"  {json.dumps(task['task'])} [label={json.dumps(task['task'] + chr(10) + task['kind'])}];")
        for upstream in task["after"]:
            lines.append(f"  {json.dumps(upstream)} -> {json.dumps(task['task'])};")
    return "\n".join([*lines, "}"])
