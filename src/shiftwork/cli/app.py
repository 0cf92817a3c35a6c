"""`shiftwork` commands."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiftwork.cli.common import (
    JsonOption,
    SinceOption,
    SortOption,
    StateDirOption,
    TagOption,
    backend,
    console,
    err_console,
    fail,
    handle_errors,
    is_remote,
    resolve_state_dir,
    stack,
    use_endpoint,
)
from shiftwork.cli.dashboard import dashboard
from shiftwork.cli.definitions import definitions_app
from shiftwork.cli.excel import excel_app
from shiftwork.cli.notify import notify_app
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
from shiftwork.cli.render import job_detail, jobs_table, styled_status
from shiftwork.cli.schedule import schedule_app
from shiftwork.cli.workflows import runs_app, workflow_app
from shiftwork.config import ENV_API_TOKEN, ENV_API_URL

if TYPE_CHECKING:
    from rich.console import Console

    from shiftwork.api.service import Service
    from shiftwork.models import DescribeJob

app = typer.Typer(
    help="Run Jupyter notebooks as jobs: now, on a schedule, or when a file lands. Locally or on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
job_app = typer.Typer(help="Look at and manage one job.", no_args_is_help=True)
app.add_typer(job_app, name="job")
app.add_typer(schedule_app, name="schedule")
app.add_typer(definitions_app, name="definitions")
app.add_typer(notify_app, name="notify")
app.add_typer(workflow_app, name="workflow")
app.add_typer(runs_app, name="runs")
app.add_typer(excel_app, name="excel")
app.command("dashboard")(dashboard)

POLL_SECONDS = 0.1


@app.callback()
def options(
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            envvar=ENV_API_URL,
            help="Call this REST API (a deployed stack's ApiUrl, or `shiftwork up`'s) instead of the local stack.",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar=ENV_API_TOKEN,
            help="Bearer token for --endpoint \\[default: AWS SigV4 with your AWS credentials; for a local "
            "`shiftwork up`, its state dir's api-token]",
            show_default=False,
        ),
    ] = None,
) -> None:
    use_endpoint(endpoint, token)


@app.command(cls=PapermillCommand)
@handle_errors
def run(
    notebook: Annotated[Path, typer.Argument(help="The notebook to run (.ipynb).", show_default=False)],
    parameter: ParameterOption = None,
    parameters_file: ParametersFileOption = None,
    parameters_yaml: ParametersYamlOption = None,
    parameters_raw: ParametersRawOption = None,
    output_format: Annotated[
        list[str] | None,
        typer.Option("--format", help="Output format: ipynb, html, markdown, script, latex, pdf (repeat)."),
    ] = None,
    kernel: KernelOption = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.001, help="Fail the job after this many seconds.")
    ] = None,
    execution_timeout: ExecutionTimeoutOption = None,
    start_timeout: StartTimeoutOption = None,
    report_mode: ReportModeOption = False,
    input_folder: Annotated[
        bool, typer.Option("--input-folder", help="Package the notebook's folder with it (data files, modules).")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="Job name \\[default: the notebook's name]")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the end; exit 0 on COMPLETED, 1 on FAILED or STOPPED.")
    ] = False,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Run a notebook as a job and show its status until it ends."""
    from shiftwork.api.validation import check_formats, check_notebook, resolve_kernel
    from shiftwork.models import CreateJob
    from shiftwork.models.job import START_TIMEOUT_SECONDS

    parameters = collect_parameters(parameters_file, parameters_yaml, parameter, parameters_raw)
    formats = output_format or ["ipynb"]
    content = check_notebook(notebook)  # refuse bad input before a stack is even started
    check_formats(formats)
    if not is_remote():  # a deployed stack's kernels are the runner image's: the API checks them
        resolve_kernel(content, kernel)
    request = CreateJob(
        input_uri=str(notebook),
        name=name,
        parameters=parameters,
        output_formats=formats,
        kernel_name=kernel,
        timeout_seconds=timeout,
        execution_timeout_seconds=execution_timeout,
        start_timeout_seconds=start_timeout or START_TIMEOUT_SECONDS,
        report_mode=report_mode,
        package_input_folder=input_folder,
    )
    with stack(state_dir, run_jobs=True) as info:
        service = backend(state_dir)
        job = service.create_job(request)
        out = err_console if as_json else console
        out.print(f"job [bold]{job.job_id}[/] created ({job.name})", highlight=False)
        follow = wait or info.mode == "command"  # an embedded stack lives only as long as this command
        if follow:
            job = _follow(service, job.job_id, out)
        if as_json:
            print(job.model_dump_json(indent=2))
        else:
            console.print(job_detail(job, service.settings.bucket))
            if follow:
                console.print(f"download: [bold]shiftwork job download {job.job_id}[/]", highlight=False)
    if wait and job.status.value != "COMPLETED":
        raise typer.Exit(1)


def _follow(service: Service, job_id: str, out: Console) -> DescribeJob:
    """Live status until the job ends; Ctrl-C stops the job."""
    started = time.monotonic()
    seen = None
    interrupted = False

    def on_interrupt(_signum: int, _frame: object) -> None:
        nonlocal interrupted
        if not interrupted:
            interrupted = True
            out.print("stopping the job (Ctrl-C again to leave it running)...")
            service.stop_job(job_id)
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with out.status("", spinner="dots") as status:
            while True:
                job = service.get_job(job_id)
                elapsed = time.monotonic() - started
                if job.status != seen:
                    seen = job.status
                    out.print(f"  {elapsed:6.1f} s  {styled_status(job.status)}", highlight=False)
                status.update(f"{styled_status(job.status)}  {elapsed:.1f} s")
                if job.is_terminal:
                    return job
                time.sleep(POLL_SECONDS)
    finally:
        signal.signal(signal.SIGINT, previous)


@app.command()
@handle_errors
def up(
    port: Annotated[
        int | None,
        typer.Option("--port", help="Port for the AWS endpoint \\[default: $SHIFTWORK_MOTO_PORT, else any]"),
    ] = None,
    api_port: Annotated[int, typer.Option("--api-port", help="Port for the REST API (0 picks a free one).")] = 0,
    max_parallel: Annotated[
        int | None,
        typer.Option("--max-parallel", min=1, help="Jobs at once \\[default: $SHIFTWORK_MAX_PARALLEL_JOBS or cores]"),
    ] = None,
    state_dir: StateDirOption = None,
) -> None:
    """Run the embedded stack in the foreground until Ctrl-C."""
    import os

    if is_remote():
        raise fail("`shiftwork up` runs the local stack: leave out --endpoint (and SHIFTWORK_API_URL)", 2)

    from shiftwork.config import get_settings
    from shiftwork.local.stack import open_stack

    if max_parallel is not None:
        os.environ["SHIFTWORK_MAX_PARALLEL_JOBS"] = str(max_parallel)
        get_settings.cache_clear()
    if port is None:
        port = get_settings().moto_port
    directory = resolve_state_dir(state_dir)
    stopping = False

    def on_term(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C too, explicitly: a process started in the background by a shell inherits SIGINT ignored, and Python
    # then never turns it into KeyboardInterrupt, so `kill -INT` would not stop it
    signal.signal(signal.SIGINT, on_term)
    import faulthandler

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID` prints what every thread is doing
    with open_stack(directory, mode="up", port=port) as info:
        from shiftwork.local.http_api import HttpApi, api_token
        from shiftwork.local.stack import publish

        api = HttpApi(api_token(directory.expanduser().resolve()), api_port).start()
        info.api_url = api.url
        publish(directory.expanduser().resolve(), info)
        console.print(f"[bold green]shiftwork up[/]: state in {directory}", highlight=False)
        console.print(f"AWS endpoint (moto server): {info.endpoint_url}", highlight=False)
        console.print(
            f"REST API: {api.url} (Authorization: Bearer, token in {directory}/api-token; OpenAPI at /openapi.json)",
            highlight=False,
        )
        console.print("Other shiftwork commands on this state directory use this stack. Ctrl-C stops it.")
        sys.stdout.flush()
        while not stopping:
            time.sleep(0.2)
        console.print("stopping...")
        api.stop()


@app.command("jobs")
@handle_errors
def list_jobs(
    status: Annotated[str | None, typer.Option("--status", help="Only jobs with this status.")] = None,
    definition: Annotated[str | None, typer.Option("--definition", help="Only jobs of this definition.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Only jobs whose name starts with this.")] = None,
    tag: TagOption = None,
    since: SinceOption = None,
    sort: SortOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """List jobs (newest first unless --sort), filtered by status, definition, name, tags, start time."""
    from shiftwork.api.service import parse_status
    from shiftwork.models import ListJobsQuery, parse_sort_by, parse_time_ms
    from shiftwork.models.job import JOB_SORT_FIELDS
    from shiftwork.models.paging import take

    query = ListJobsQuery(
        status=parse_status(status),
        job_definition_id=definition,
        name=name,
        tags=tag or [],
        start_time=parse_time_ms("since", since),
        sort_by=parse_sort_by(sort, JOB_SORT_FIELDS),
        max_items=min(limit, 1000),
    )
    with stack(state_dir):
        jobs = take(backend(state_dir).list_jobs, query, lambda page: page.jobs, limit)
    if as_json:
        print(json.dumps([job.model_dump(mode="json") for job in jobs], indent=2))
    elif not jobs:
        filtered = any((status, definition, name, tag, since))
        console.print("no jobs match" if filtered else "no jobs yet: try [bold]shiftwork run examples/hello.ipynb[/]")
    else:
        console.print(jobs_table(jobs))


@job_app.command("show")
@handle_errors
def show(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Show one job."""
    with stack(state_dir):
        service = backend(state_dir)
        job = service.get_job(job_id)
    if as_json:
        print(job.model_dump_json(indent=2))
    else:
        console.print(job_detail(job, service.settings.bucket))


@job_app.command("logs")
@handle_errors
def logs(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the job ends.")] = False,
    state_dir: StateDirOption = None,
) -> None:
    """Print a job's output (the runner's stdout and stderr)."""
    with stack(state_dir):
        service = backend(state_dir)
        token = None
        while True:
            job = service.get_job(job_id)
            events, token = service.job_logs(job_id, token)
            for event in events:
                print(event["message"])
            sys.stdout.flush()
            if not follow or (job.is_terminal and not events):
                break
            if not events:
                time.sleep(0.5)


@job_app.command("download")
@handle_errors
def download(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    directory: Annotated[Path | None, typer.Argument(help="Where to put the files \\[default: ./JOB_ID]")] = None,
    state_dir: StateDirOption = None,
) -> None:
    """Download a job's output and side-effect files."""
    target = directory or Path(job_id)
    with stack(state_dir):
        written = backend(state_dir).download_job_files(job_id, target)
    if not written:
        raise fail(f"job {job_id} has no files yet", 1)
    for path in written:
        console.print(str(path), highlight=False)


@job_app.command("stop")
@handle_errors
def stop(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    state_dir: StateDirOption = None,
) -> None:
    """Stop a queued or running job (STOPPING, then STOPPED)."""
    with stack(state_dir):
        service = backend(state_dir)
        job = service.stop_job(job_id)
        deadline = time.monotonic() + service.settings.stop_timeout_seconds + 10
        while not job.is_terminal and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            job = service.get_job(job_id)
    console.print(f"job {job_id} {styled_status(job.status)}", highlight=False)


@job_app.command("delete")
@handle_errors
def delete(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    state_dir: StateDirOption = None,
) -> None:
    """Delete a finished job and its files."""
    with stack(state_dir):
        backend(state_dir).delete_job(job_id)
    console.print(f"job {job_id} deleted", highlight=False)


@app.command()
@handle_errors
def upload(
    file: Annotated[Path, typer.Argument(help="A file to put in the stack's bucket.")],
    key: Annotated[
        str | None, typer.Option("--key", help="Its S3 key \\[default: inbox/NAME, where a notebook runs as a job]")
    ] = None,
    state_dir: StateDirOption = None,
) -> None:
    """Upload a file to S3; a notebook under inbox/ runs as a job (the S3 trigger)."""
    from shiftwork.errors import InvalidSpec
    from shiftwork.store import files

    if not file.is_file():
        raise InvalidSpec("file", str(file), "does not exist or is not a file")
    target = key or f"inbox/{file.name}"
    files.safe_relative(target)
    with stack(state_dir, run_jobs=True) as info:
        service = backend(state_dir)
        service.upload(file, target)
        console.print(f"uploaded s3://{service.settings.bucket}/{target}", highlight=False)
        if info.mode == "command" and target.startswith("inbox/") and target.endswith(".ipynb"):
            # the embedded stack ends with this command: wait for the job the upload starts, then follow it
            deadline = time.monotonic() + 30
            tag = f"s3://{service.settings.bucket}/{target}"
            job = None
            while job is None and time.monotonic() < deadline:
                job = next((j for j in service.iter_jobs() if tag in j.tags and not j.is_terminal), None)
                time.sleep(POLL_SECONDS)
            if job is not None:
                console.print(f"job [bold]{job.job_id}[/] started by the upload", highlight=False)
                _follow(service, job.job_id, console)


def main() -> None:
    app()
