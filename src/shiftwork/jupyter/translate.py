"""Jupyter Scheduler's models <-> Shiftwork's: every field both sides have, both ways, and nothing else.

Jupyter Scheduler's parameters are Python literals as text (its executor writes `name = value` into the notebook):
`3`, `'EU'`, `[1, 2]`. They are read with ast.literal_eval and shown back with repr, so a value goes round without
loss; a bare word that is no literal (`EU`) is taken as the text it is. Shiftwork's own settings that Jupyter
Scheduler has no field for (timeouts, retries, notifications...) travel in runtime_environment_parameters.
"""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath
from typing import Any

from jupyter_scheduler import models as jupyter
from jupyter_scheduler.pydantic_v1 import PrivateAttr

from shiftwork.errors import InvalidSpec
from shiftwork.models import (
    CreateJob,
    CreateJobDefinition,
    DescribeJob,
    DescribeJobDefinition,
    ListJobDefinitionsQuery,
    ListJobsQuery,
    SortField,
    Status,
)
from shiftwork.models.definition import DefinitionChanges
from shiftwork.models.job import DEFAULT_SORT, SortDirection

# Shiftwork's settings a job takes from runtime_environment_parameters, and a definition's on top of them
JOB_SETTINGS = ("timeout_seconds", "execution_timeout_seconds", "start_timeout_seconds", "report_mode")
DEFINITION_SETTINGS = (
    *JOB_SETTINGS,
    "max_retries",
    "retry_backoff_seconds",
    "notify",
    "max_running_jobs",
    "misfire_grace_time",
    "coalesce",
)
CHANGEABLE_SETTINGS = tuple(name for name in DEFINITION_SETTINGS if name in DefinitionChanges.model_fields)
SKIPPED_PREFIX = "skipped: "
SHIFTWORK_ONLY_SCHEDULE = (
    "is a Shiftwork schedule that plain cron cannot express, so JupyterLab cannot edit it (nor its time zone): "
    "change it with `shiftwork definitions update {id} --schedule ...`, or through the SDK or REST API"
)


def parameter_in(name: str, text: str) -> Any:
    """A Jupyter Scheduler parameter (a Python literal as text) as the value papermill injects."""
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text  # a bare word: the text itself, where Jupyter Scheduler's own executor would raise NameError


def parameters_in(parameters: dict[str, str] | None) -> dict[str, Any]:
    return {name: parameter_in(name, text) for name, text in (parameters or {}).items()}


def parameters_out(parameters: dict[str, Any]) -> dict[str, str]:
    """Shiftwork's typed parameters as the Python literals Jupyter Scheduler shows and sends back."""
    return {name: repr(value) for name, value in parameters.items()}


def settings_in(given: dict[str, Any] | None, allowed: tuple[str, ...], field: str) -> dict[str, Any]:
    """runtime_environment_parameters as Shiftwork's settings; a name Shiftwork does not read is refused."""
    settings: dict[str, Any] = {}
    for name, value in (given or {}).items():
        if name not in allowed:
            raise InvalidSpec(f"{field}.{name}", value, f"Shiftwork reads {', '.join(allowed)} here")
        settings[name] = _setting(name, value)
    return settings


def _setting(name: str, value: Any) -> Any:
    """Jupyter Scheduler's model has already made numbers of numeric text and 1 of true: read them back."""
    if name == "notify":
        return [part.strip() for part in str(value).split(",") if part.strip()]
    if name == "report_mode" and value in (0, 1, "true", "false", "True", "False"):
        return value in (1, "true", "True")
    return value


def settings_out(record: DescribeJob | DescribeJobDefinition, names: tuple[str, ...]) -> dict[str, Any]:
    """The settings a job or definition has that differ from Shiftwork's defaults, as Jupyter's values."""
    defaults = type(record).model_fields
    shown: dict[str, Any] = {}
    for name in names:
        if name not in defaults:
            continue
        value = getattr(record, name)
        if value == defaults[name].get_default(call_default_factory=True):
            continue
        shown[name] = ",".join(str(item) for item in value) if isinstance(value, list) else _scalar(value)
    return shown


def _scalar(value: Any) -> Any:
    return value if isinstance(value, int | float | bool | str) else str(value)


def check_unsupported(model: Any) -> None:
    """Refuse what Jupyter Scheduler's models can ask and Shiftwork cannot do, rather than ignore it."""
    if getattr(model, "compute_type", None):
        raise InvalidSpec(
            "compute_type", model.compute_type, "Shiftwork notebook jobs have no compute types: leave it empty"
        )
    template = getattr(model, "output_filename_template", None)
    if template not in (None, jupyter.OUTPUT_FILENAME_TEMPLATE):
        raise InvalidSpec(
            "output_filename_template", template, "Shiftwork names outputs one way: leave it out or send the default"
        )


def input_path(root: Path, input_uri: str) -> Path:
    """A notebook path relative to the Jupyter root, resolved inside it."""
    if not input_uri or not input_uri.strip():
        raise InvalidSpec("input_uri", input_uri, "give the notebook's path in the Jupyter root, e.g. reports/a.ipynb")
    resolved = (root / input_uri).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise InvalidSpec("input_uri", input_uri, "give a path inside the Jupyter root")
    if not resolved.is_file():
        raise InvalidSpec("input_uri", input_uri, "no such notebook in the Jupyter root: check the path")
    return resolved


def _submission(
    model: jupyter.CreateJob | jupyter.CreateJobDefinition, root: Path, settings: tuple[str, ...]
) -> dict[str, Any]:
    """The fields a job and a definition made in JupyterLab share: the notebook, how to run it, Shiftwork's settings."""
    check_unsupported(model)
    return {
        "input_uri": str(input_path(root, model.input_uri)),
        "name": model.name,
        "parameters": parameters_in(model.parameters),
        "output_formats": model.output_formats or ["ipynb"],
        "kernel_name": model.runtime_environment_name or None,
        "tags": model.tags or [],
        "package_input_folder": bool(model.package_input_folder),
        **settings_in(model.runtime_environment_parameters, settings, "runtime_environment_parameters"),
    }


def create_job_in(model: jupyter.CreateJob, root: Path) -> CreateJob:
    return CreateJob(**_submission(model, root, JOB_SETTINGS), idempotency_token=model.idempotency_token or None)


def create_definition_in(model: jupyter.CreateJobDefinition, root: Path) -> CreateJobDefinition:
    return CreateJobDefinition(
        **_submission(model, root, DEFINITION_SETTINGS),
        schedule=model.schedule or None,
        timezone=model.timezone or "UTC",
    )


def jupyter_status(job: DescribeJob) -> tuple[jupyter.Status, str | None]:
    """A SKIPPED fire (never ran: its definition's policies said so) is STOPPED there, with why."""
    if job.status == Status.SKIPPED:
        return jupyter.Status.STOPPED, SKIPPED_PREFIX + (job.status_message or "not run")
    return jupyter.Status(job.status.value), job.status_message


def shiftwork_statuses(status: jupyter.Status | None) -> list[Status]:
    """The Shiftwork statuses a Jupyter status filter stands for."""
    if status is None:
        return []
    if status == jupyter.Status.STOPPED:
        return [Status.STOPPED, Status.SKIPPED]
    return [Status(status.value)]


class ShiftworkJob(jupyter.DescribeJob):
    """Jupyter Scheduler's DescribeJob, knowing the names of the job's files in Shiftwork (not sent to the UI)."""

    _output_names: dict[str, str] = PrivateAttr(default_factory=dict)

    def output_names(self) -> dict[str, str]:
        return self._output_names


def job_out(job: DescribeJob) -> ShiftworkJob:
    described = ShiftworkJob(**job_fields(job))
    described._output_names = output_file_names(job)
    return described


def definition_out(definition: DescribeJobDefinition, *, listing: bool = False) -> jupyter.DescribeJobDefinition:
    return jupyter.DescribeJobDefinition(**definition_fields(definition, listing=listing))


def job_fields(job: DescribeJob) -> dict[str, Any]:
    """A Shiftwork job as the fields of Jupyter Scheduler's DescribeJob (job_files are added by the scheduler)."""
    status, message = jupyter_status(job)
    return {
        "job_id": job.job_id,
        "name": job.name,
        "input_filename": job.input_filename,
        "runtime_environment_name": job.kernel_name or "",
        "runtime_environment_parameters": settings_out(job, JOB_SETTINGS) or None,
        "output_formats": job.output_formats,
        "idempotency_token": job.idempotency_token,
        "job_definition_id": job.job_definition_id,
        "parameters": parameters_out(job.parameters),
        "tags": job.tags,
        "url": f"/jobs/{job.job_id}",
        "create_time": job.create_time,
        "update_time": job.update_time,
        "start_time": job.start_time,
        "end_time": job.end_time,
        "status": status,
        "status_message": message,
        "package_input_folder": job.package_input_folder,
        "packaged_files": side_effect_files(job),
    }


def side_effect_files(job: DescribeJob) -> list[str]:
    """The files the notebook wrote beside itself, relative to its folder (Jupyter Scheduler's packaged_files)."""
    folder = f"{job.output_prefix}files/"
    return [f.file_path[len(folder) :] for f in job.job_files if f.file_path.startswith(folder)]


def output_file_names(job: DescribeJob) -> dict[str, str]:
    """Each output format's file name in the job's outputs (its extension is the format's own: .py, .md...)."""
    return {
        f.file_format: PurePosixPath(f.file_path).name
        for f in job.job_files
        if f.file_path.startswith(job.output_prefix) and "/" not in f.file_path[len(job.output_prefix) :]
    }


def is_plain_cron(schedule: str | None) -> bool:
    """What Jupyter Scheduler's UI reads and edits: five fields of Unix cron."""
    if not schedule:
        return True
    text = schedule.strip()
    return not text.startswith(("{", "rate(", "at(", "cron(")) and len(text.split()) == 5


def definition_fields(definition: DescribeJobDefinition, *, listing: bool = False) -> dict[str, Any]:
    """A Shiftwork definition as the fields of Jupyter Scheduler's DescribeJobDefinition.

    A schedule plain cron cannot express is shown as written in the detail view; in a list it is left out, because
    JupyterLab's list describes each schedule with cronstrue, which throws on anything else and blanks the list.
    """
    plain = is_plain_cron(definition.schedule)
    return {
        "job_definition_id": definition.job_definition_id,
        "name": definition.name,
        "input_filename": definition.input_filename,
        "runtime_environment_name": definition.kernel_name,
        "runtime_environment_parameters": settings_out(definition, DEFINITION_SETTINGS) or None,
        "output_formats": definition.output_formats,
        "parameters": parameters_out(definition.parameters),
        "tags": definition.tags,
        "schedule": definition.schedule if plain or not listing else None,
        "timezone": definition.timezone,
        "create_time": definition.create_time,
        "update_time": definition.update_time,
        "active": definition.active,
        "package_input_folder": definition.package_input_folder,
    }


def sort_in(sort_by: list[jupyter.SortField] | None) -> list[SortField]:
    fields = [
        SortField(
            name=field.name,
            direction=SortDirection.DESC if field.direction == jupyter.SortDirection.desc else SortDirection.ASC,
        )
        for field in sort_by or []
    ]
    return fields or list(DEFAULT_SORT)


def page_size(max_items: Any) -> int:
    try:
        size = int(max_items if max_items is not None else jupyter.DEFAULT_MAX_ITEMS)
    except (TypeError, ValueError):
        raise InvalidSpec("max_items", max_items, "give a whole number from 0 to 1000") from None
    if not 0 <= size <= 1000:
        raise InvalidSpec("max_items", max_items, "give a whole number from 0 to 1000")
    return size


def jobs_query_in(query: jupyter.ListJobsQuery, size: int) -> ListJobsQuery:
    statuses = shiftwork_statuses(query.status)
    return ListJobsQuery(
        job_definition_id=query.job_definition_id or None,
        status=statuses[0] if len(statuses) == 1 else None,
        exclude_status=[s for s in Status if s not in statuses] if len(statuses) > 1 else [],
        name=query.name or None,
        start_time=query.start_time,
        tags=[tag for tag in query.tags or [] if tag],
        kind="notebook",
        sort_by=sort_in(query.sort_by),
        max_items=max(size, 1),
        next_token=query.next_token or None,
    )


def definitions_query_in(query: jupyter.ListJobDefinitionsQuery, size: int) -> ListJobDefinitionsQuery:
    return ListJobDefinitionsQuery(
        name=query.name or None,
        create_time=query.create_time,
        tags=[tag for tag in query.tags or [] if tag],
        sort_by=sort_in(query.sort_by),
        max_items=max(size, 1),
        next_token=query.next_token or None,
    )


def definition_changes(
    current: DescribeJobDefinition, model: jupyter.UpdateJobDefinition, root: Path
) -> dict[str, Any]:
    """What an update from JupyterLab changes, as UpdateJobDefinition's fields: only what differs from `current`
    (JupyterLab's edit form sends the schedule, time zone and snapshot back unchanged), nothing for `active`
    (pause and resume are their own calls)."""
    check_unsupported(model)
    changes: dict[str, Any] = {}
    wanted = {
        "name": model.name,
        "kernel_name": model.runtime_environment_name or None,
        "output_formats": model.output_formats,
        "parameters": None if model.parameters is None else parameters_in(model.parameters),
        "tags": model.tags,
        **settings_in(model.runtime_environment_parameters, CHANGEABLE_SETTINGS, "runtime_environment_parameters"),
    }
    for name, value in wanted.items():
        if value is not None and value != getattr(current, name):
            changes[name] = value
    changes.update(_schedule_changes(current, model))
    if model.input_uri:
        changes.update(_snapshot_change(current, model.input_uri, root))
    return changes


def _schedule_changes(current: DescribeJobDefinition, model: jupyter.UpdateJobDefinition) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if model.schedule is not None and model.schedule.strip() != (current.schedule or ""):
        changes["schedule"] = model.schedule.strip()
    if model.timezone and model.timezone != current.timezone:
        changes["timezone"] = model.timezone
    if changes and not is_plain_cron(current.schedule):
        raise InvalidSpec("schedule", current.schedule, SHIFTWORK_ONLY_SCHEDULE.format(id=current.job_definition_id))
    return changes


def _snapshot_change(current: DescribeJobDefinition, input_uri: str, root: Path) -> dict[str, Any]:
    """A notebook dropped on the form is the new snapshot; the name of the current one (not in the root) keeps it."""
    candidate = (root / input_uri).resolve()
    if candidate.is_file() and candidate.is_relative_to(root.resolve()):
        return {"input_uri": str(candidate)}
    if PurePosixPath(input_uri).name == current.input_filename:
        return {}
    return {"input_uri": str(input_path(root, input_uri))}  # refused, naming the path
