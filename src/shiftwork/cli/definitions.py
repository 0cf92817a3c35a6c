"""`shiftwork definitions ...`: job definitions, scheduled like Jupyter Scheduler, APScheduler or Datatailr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shiftwork.cli.common import (
    JsonOption,
    SinceOption,
    SortOption,
    StateDirOption,
    TagOption,
    backend,
    console,
    handle_errors,
    is_remote,
    stack,
)
from shiftwork.cli.parameters import (
    ExecutionTimeoutOption,
    KernelOption,
    PapermillCommand,
    ParameterOption,
    ParametersFileOption,
    ParametersRawOption,
    ParametersYamlOption,
    ReportModeOption,
    StartTimeoutOption,
    collect_parameters,
)
from shiftwork.cli.render import jobs_table, when

if TYPE_CHECKING:
    from shiftwork.models import DescribeJobDefinition

definitions_app = typer.Typer(help="Job definitions: what to run, how, and when.", no_args_is_help=True)

FormatOption = Annotated[list[str] | None, typer.Option("--format", help="Output format (repeat).")]

IdArgument = Annotated[str, typer.Argument(help="The job definition's id.")]
AfterOption = Annotated[
    str | None,
    typer.Option("--after", help="Run when a job of this definition (id or name) ends, instead of on a schedule."),
]
OnOption = Annotated[
    str | None, typer.Option("--on", help="With --after: which ends run it: success, failure or completion.")
]


def _detail(definition: DescribeJobDefinition) -> Table:
    from datetime import UTC, datetime

    from shiftwork.schedules import trigger_from_dict
    from shiftwork.schedules.dst import zone

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    state = "[green]active[/]" if definition.active else "[magenta]paused[/]"
    rows = [
        ("Definition", definition.job_definition_id),
        ("Name", definition.name),
        ("State", state),
        ("Version", str(definition.version)),
        ("Notebook", definition.input_filename),
        ("Schedule", _when_it_runs(definition)),
        ("Parameters", ", ".join(f"{k}={v!r}" for k, v in definition.parameters.items()) or "-"),
        ("Formats", ", ".join(definition.output_formats)),
        ("Kernel", definition.kernel_name),
        ("Execution", _execution(definition)),
        (
            "Policies",
            f"max_running_jobs={definition.max_running_jobs}, coalesce={definition.coalesce}, "
            f"misfire_grace_time={definition.misfire_grace_time or 'none'}",
        ),
        ("Created", when(definition.create_time)),
    ]
    for compiled in definition.compiled:
        rows.append(("EventBridge", f"{compiled['kind']}: {compiled['expression']} ({compiled['timezone']})"))
    if definition.watch_prefix:
        rows.append(("Watches", f"s3 prefix {definition.watch_prefix}"))
    if definition.active and definition.trigger:
        trigger = trigger_from_dict(definition.trigger, definition.timezone)
        upcoming = trigger.preview(datetime.now(UTC), 3)
        for index, fire in enumerate(upcoming):
            rows.append(("Next" if index == 0 else "", fire.astimezone(zone(definition.timezone)).isoformat()))
    for label, value in rows:
        table.add_row(label, value)
    return table


def _when_it_runs(definition: DescribeJobDefinition) -> str:
    if definition.run_after:
        return f"after {definition.run_after} ({definition.run_after_condition})"
    return f"{definition.schedule}  ({definition.timezone})" if definition.schedule else "none (on demand)"


def _execution(definition: DescribeJobDefinition) -> str:
    """papermill's options, as the job will run with them."""
    limits = [f"timeout {definition.timeout_seconds:g} s"] if definition.timeout_seconds else []
    if definition.execution_timeout_seconds:
        limits.append(f"per cell {definition.execution_timeout_seconds:g} s")
    limits.append(f"kernel start {definition.start_timeout_seconds:g} s")
    return ", ".join(limits) + (", report mode" if definition.report_mode else "")


def _print(definition: DescribeJobDefinition, as_json: bool) -> None:
    if as_json:
        print(definition.model_dump_json(indent=2))
    else:
        console.print(_detail(definition))


@definitions_app.command("create", cls=PapermillCommand)
@handle_errors
def create(
    notebook: Annotated[Path, typer.Argument(help="The notebook to run (.ipynb).")],
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Unix cron, cron()/rate()/at(), or a JSON trigger.")
    ] = None,
    watch_prefix: Annotated[
        str | None, typer.Option("--watch-prefix", help="Run it when a file lands under this S3 prefix.")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone of the schedule.")] = "UTC",
    after: AfterOption = None,
    on: OnOption = None,
    parameter: ParameterOption = None,
    parameters_file: ParametersFileOption = None,
    parameters_yaml: ParametersYamlOption = None,
    parameters_raw: ParametersRawOption = None,
    output_format: FormatOption = None,
    name: Annotated[str | None, typer.Option("--name", help="Its name.")] = None,
    kernel: KernelOption = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.001)] = None,
    execution_timeout: ExecutionTimeoutOption = None,
    start_timeout: StartTimeoutOption = None,
    report_mode: ReportModeOption = False,
    input_folder: Annotated[bool, typer.Option("--input-folder")] = False,
    max_running_jobs: Annotated[int, typer.Option("--max-running-jobs", min=1)] = 1,
    misfire_grace_time: Annotated[float | None, typer.Option("--misfire-grace-time", min=0.001)] = None,
    coalesce: Annotated[str, typer.Option("--coalesce", help="latest, earliest or all")] = "latest",
    definition_id: Annotated[str | None, typer.Option("--id", help="Its id [default: a new UUID]")] = None,
    conflict: Annotated[str, typer.Option("--conflict", help="If --id exists: replace, keep or error")] = "error",
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    max_retries: Annotated[int, typer.Option("--max-retries", min=0, max=10, help="Retries of a failed job.")] = 0,
    retry_backoff: Annotated[
        float,
        typer.Option(
            "--retry-backoff",
            min=0,
            max=900,
            help="Seconds before the first retry; doubled for each further one, at most 900 (SQS's longest delay).",
        ),
    ] = 60,
    notify: Annotated[list[str] | None, typer.Option("--notify", help="failure and/or success (SNS).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Create a job definition: the notebook is snapshotted and its schedules created."""
    from shiftwork.api.validation import check_formats, check_notebook, resolve_kernel
    from shiftwork.models import CreateJobDefinition
    from shiftwork.models.job import START_TIMEOUT_SECONDS
    from shiftwork.schedules import compile_to_eventbridge, parse_trigger

    request = CreateJobDefinition.model_validate(
        {
            "input_uri": str(notebook),
            "name": name,
            "parameters": collect_parameters(parameters_file, parameters_yaml, parameter, parameters_raw),
            "output_formats": output_format or ["ipynb"],
            "kernel_name": kernel,
            "timeout_seconds": timeout,
            "execution_timeout_seconds": execution_timeout,
            "start_timeout_seconds": start_timeout or START_TIMEOUT_SECONDS,
            "report_mode": report_mode,
            "package_input_folder": input_folder,
            "schedule": schedule,
            "watch_prefix": watch_prefix,
            "timezone": tz,
            "active": not paused,
            "max_running_jobs": max_running_jobs,
            "misfire_grace_time": misfire_grace_time,
            "coalesce": coalesce,
            "conflict_policy": conflict,
            "tags": tag or [],
            "max_retries": max_retries,
            "retry_backoff_seconds": retry_backoff,
            "notify": notify or [],
            "run_after": after,
            "run_after_condition": _condition(after, on),
        }
    )
    content = check_notebook(notebook)  # everything a user can get wrong, before a stack starts
    check_formats(request.output_formats)
    if not is_remote():  # a deployed stack's kernels are the runner image's: the API checks them
        resolve_kernel(content, kernel)
    if schedule is not None:
        compile_to_eventbridge(parse_trigger(schedule, tz))
    if schedule is not None and after is not None:
        from shiftwork.errors import InvalidSpec

        raise InvalidSpec("--after", after, "a definition runs on a --schedule or --after another's job, not both")
    with stack(state_dir):
        _print(backend(state_dir).definitions.create(request, definition_id), as_json)


def _condition(after: str | None, on: str | None) -> str | None:
    """--on as the request's condition; --on without --after is a mistake, not a no-op."""
    from shiftwork.errors import InvalidSpec

    if on is not None and after is None:
        raise InvalidSpec("--on", on, "needs --after DEFINITION (which definition's jobs it runs after)")
    return on or "on success"


@definitions_app.command("list")
@handle_errors
def list_definitions(
    name: Annotated[str | None, typer.Option("--name", help="Only those whose name starts with this.")] = None,
    schedule: Annotated[str | None, typer.Option("--schedule", help="Only those with this schedule (exact).")] = None,
    state: Annotated[
        bool | None, typer.Option("--paused/--active", help="Only paused, or only active, definitions.")
    ] = None,
    tag: TagOption = None,
    since: SinceOption = None,
    sort: SortOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 1000,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Job definitions (newest first unless --sort), filtered by name, schedule, state, tags, creation time."""
    from shiftwork.models import ListJobDefinitionsQuery, parse_sort_by, parse_time_ms
    from shiftwork.models.definition import DEFINITION_SORT_FIELDS
    from shiftwork.models.paging import take

    query = ListJobDefinitionsQuery(
        name=name,
        schedule=schedule,
        paused=state,
        tags=tag or [],
        create_time=parse_time_ms("since", since),
        sort_by=parse_sort_by(sort, DEFINITION_SORT_FIELDS),
        max_items=min(limit, 1000),
    )
    with stack(state_dir):
        definitions = backend(state_dir).definitions
        found = take(lambda q: definitions.list(query=q), query, lambda page: page.job_definitions, limit)
    if as_json:
        print(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("Definition", "Name", "State", "Schedule", "Time zone", "Version"):
        table.add_column(column)
    for d in found:
        table.add_row(
            d.job_definition_id,
            d.name,
            "active" if d.active else "paused",
            d.schedule
            or (f"after {d.run_after}" if d.run_after else None)
            or (f"watches {d.watch_prefix}" if d.watch_prefix else "on demand"),
            d.timezone,
            str(d.version),
        )
    console.print(table if found else "no job definitions yet: see shiftwork definitions create --help")


@definitions_app.command("show")
@handle_errors
def show(definition_id: IdArgument, as_json: JsonOption = False, state_dir: StateDirOption = None) -> None:
    """One definition, its next fire times and its latest jobs."""
    from shiftwork.models import ListJobsQuery

    with stack(state_dir):
        service = backend(state_dir)
        definition = service.definitions.get(definition_id)
        recent = service.list_jobs(ListJobsQuery(job_definition_id=definition_id, max_items=10)).jobs
    if as_json:
        print(definition.model_dump_json(indent=2))
        return
    console.print(_detail(definition))
    if recent:
        console.print(jobs_table(recent))


@definitions_app.command("update", cls=PapermillCommand)
@handle_errors
def update(
    definition_id: IdArgument,
    notebook: Annotated[Path | None, typer.Option("--notebook", help="A new notebook snapshot.")] = None,
    schedule: Annotated[str | None, typer.Option("--schedule")] = None,
    tz: Annotated[str | None, typer.Option("--tz")] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", help="Run after this definition's jobs (id or name); '' stops running after one."),
    ] = None,
    on: OnOption = None,
    parameter: ParameterOption = None,
    parameters_file: ParametersFileOption = None,
    parameters_yaml: ParametersYamlOption = None,
    parameters_raw: ParametersRawOption = None,
    output_format: FormatOption = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    kernel: KernelOption = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.001)] = None,
    execution_timeout: ExecutionTimeoutOption = None,
    start_timeout: StartTimeoutOption = None,
    report_mode: Annotated[bool | None, typer.Option("--report-mode/--no-report-mode", show_default=False)] = None,
    max_running_jobs: Annotated[int | None, typer.Option("--max-running-jobs", min=1)] = None,
    misfire_grace_time: Annotated[float | None, typer.Option("--misfire-grace-time", min=0.001)] = None,
    coalesce: Annotated[str | None, typer.Option("--coalesce")] = None,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Change a definition: a new version, its schedules changed with it."""
    from shiftwork.models import UpdateJobDefinition

    given = parameter or parameters_file or parameters_yaml or parameters_raw
    request = UpdateJobDefinition.model_validate(
        {
            "input_uri": str(notebook) if notebook else None,
            "schedule": schedule,
            "timezone": tz,
            "parameters": collect_parameters(parameters_file, parameters_yaml, parameter, parameters_raw)
            if given
            else None,
            "output_formats": output_format,
            "name": name,
            "kernel_name": kernel,
            "timeout_seconds": timeout,
            "execution_timeout_seconds": execution_timeout,
            "start_timeout_seconds": start_timeout,
            "report_mode": report_mode,
            "max_running_jobs": max_running_jobs,
            "misfire_grace_time": misfire_grace_time,
            "coalesce": coalesce,
            "run_after": after,
            "run_after_condition": on,
        }
    )
    with stack(state_dir):
        _print(backend(state_dir).definitions.update(definition_id, request), as_json)


@definitions_app.command("pause")
@handle_errors
def pause(definition_id: IdArgument, state_dir: StateDirOption = None) -> None:
    """Stop firing (its schedules are disabled)."""
    with stack(state_dir):
        backend(state_dir).definitions.pause(definition_id)
    console.print(f"definition {definition_id} paused", highlight=False)


@definitions_app.command("resume")
@handle_errors
def resume(
    definition_id: IdArgument,
    resume_from: Annotated[
        str, typer.Option("--from", help="now (skip what was missed) or an ISO time (fires since are owed)")
    ] = "now",
    state_dir: StateDirOption = None,
) -> None:
    """Fire again."""
    with stack(state_dir):
        backend(state_dir).definitions.resume(definition_id, resume_from)
    console.print(f"definition {definition_id} resumed", highlight=False)


@definitions_app.command("delete")
@handle_errors
def delete(definition_id: IdArgument, state_dir: StateDirOption = None) -> None:
    """Delete a definition and its schedules (the jobs it ran stay)."""
    with stack(state_dir):
        backend(state_dir).definitions.delete(definition_id)
    console.print(f"definition {definition_id} deleted", highlight=False)


@definitions_app.command("run", cls=PapermillCommand)
@handle_errors
def run(
    definition_id: IdArgument,
    parameter: ParameterOption = None,
    parameters_file: ParametersFileOption = None,
    parameters_yaml: ParametersYamlOption = None,
    parameters_raw: ParametersRawOption = None,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Run the definition's current version now (parameters override its own)."""
    parameters = collect_parameters(parameters_file, parameters_yaml, parameter, parameters_raw)
    with stack(state_dir, run_jobs=True) as info:
        service = backend(state_dir)
        job = service.definitions.run(definition_id, parameters)
        if info.mode == "command":  # the embedded stack lives as long as this command: follow the job
            from shiftwork.cli.app import _follow

            job = _follow(service, job.job_id, console)
    if as_json:
        print(job.model_dump_json(indent=2))
    else:
        console.print(f"job {job.job_id} {job.status.value}", highlight=False)
