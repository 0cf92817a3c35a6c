"""`shiftwork workflow run|deploy` and `shiftwork runs [show|logs|result|rerun]`: workflows from the shell.

Every command works on the embedded stack and, with `shiftwork --endpoint URL`, through the REST API (a Client has
the Service's `workflows` methods).
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shiftwork.cli.common import JsonOption, StateDirOption, backend, console, err_console, handle_errors, stack
from shiftwork.cli.parameters import ParameterOption, collect_parameters
from shiftwork.cli.workflow_render import definition_detail, run_report, runs_table, summary, tasks_table

if TYPE_CHECKING:
    from shiftwork.models import DescribeJob

workflow_app = typer.Typer(help="Workflows: DAGs of Python functions and notebooks, each task its own container.")
runs_app = typer.Typer(help="Workflow runs: list them, or look at one.", invoke_without_command=True)

POLL_SECONDS = 0.2
TargetArgument = Annotated[str, typer.Argument(help="The workflow: FILE.py:FUNCTION (a @workflow function).")]
RunArgument = Annotated[str, typer.Argument(help="The run's id.")]
TaskOption = Annotated[str, typer.Option("--task", help="The task: its name, or name[index] for a mapped instance.")]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Show the tasks live until the run ends; exit 0 on COMPLETED, 1 otherwise.")
]


def load_target(target: str) -> Any:
    """The @workflow that `FILE.py:FUNCTION` names; InvalidSpec (exit 2) naming what is wrong and the fix."""
    from shiftwork.workflows.code import load_workflow

    return load_workflow(target)


@workflow_app.command("run")
@handle_errors
def run(
    target: TargetArgument,
    parameter: ParameterOption = None,
    name: Annotated[str | None, typer.Option("--name", help="The run's name \\[default: the workflow's]")] = None,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Run a workflow now: `shiftwork workflow run pipeline.py:daily -p day=2026-03-02 --wait`."""
    from shiftwork.models.workflow import RunWorkflow, run_parameters

    workflow = load_target(target)
    spec = workflow.spec()
    parameters = collect_parameters(None, None, parameter, None)
    run_parameters(spec, parameters)  # refused before a stack is even started
    request = RunWorkflow(spec=spec, parameters=parameters, name=name)
    with stack(state_dir, run_jobs=True) as info:
        service = backend(state_dir)
        job = service.workflows.run(request, workflow.code_files())
        _started(job, as_json)
        _finish(service, job, wait or info.mode == "command", wait, as_json)


def _started(job: DescribeJob, as_json: bool) -> None:
    out = err_console if as_json else console
    out.print(f"run [bold]{job.job_id}[/] created ({job.name})", highlight=False)


def _finish(service: Any, job: DescribeJob, follow: bool, wait: bool, as_json: bool) -> None:
    """Follow the run if asked (or if the stack lives only as long as this command); exit 1 if --wait and it failed."""
    if follow:
        job = follow_run(service, job.job_id, err_console if as_json else console)
    if as_json:
        print(job.model_dump_json(indent=2))
    elif not follow:
        console.print(f"follow it: [bold]shiftwork runs show {job.job_id}[/]", highlight=False)
    if wait and job.status.value != "COMPLETED":
        raise typer.Exit(1)


def follow_run(service: Any, run_id: str, out: Any) -> DescribeJob:
    """A live table of the tasks until the run ends, then its summary; Ctrl-C stops the run."""
    from rich.live import Live

    interrupted = False

    def on_interrupt(_signum: int, _frame: object) -> None:
        nonlocal interrupted
        if interrupted:
            raise KeyboardInterrupt
        interrupted = True
        out.print("stopping the run (Ctrl-C again to leave it running)...")
        service.stop_job(run_id)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with Live(tasks_table([]), console=out, refresh_per_second=4) as live:
            while True:
                run = service.get_job(run_id)
                tasks = service.workflows.tasks(run_id)
                live.update(tasks_table(tasks))
                if run.is_terminal:
                    break
                time.sleep(POLL_SECONDS)
    finally:
        signal.signal(signal.SIGINT, previous)
    if not out.is_terminal:  # piped, Live printed its last table without ending the line
        out.line()
    out.print(summary(run, tasks), highlight=False)
    out.print(f"details: [bold]shiftwork runs show {run_id}[/]", highlight=False)
    return run


@workflow_app.command("deploy")
@handle_errors
def deploy(
    target: TargetArgument,
    definition_id: Annotated[
        str | None, typer.Option("--id", help="The definition's id \\[default: from the workflow's name]")
    ] = None,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """Deploy a workflow as a versioned definition with its schedule (a new version when it exists)."""
    from shiftwork.workflows import sdk

    workflow = load_target(target)
    workflow.spec()  # a bad graph is refused before a stack is started
    options = {"job_definition_id": definition_id} if definition_id else {}
    with stack(state_dir):
        definition = sdk.deploy(workflow, using=backend(state_dir), **options)
    if as_json:
        print(definition.model_dump_json(indent=2))
    else:
        console.print(definition_detail(definition))


@runs_app.callback()
@handle_errors
def list_runs(
    ctx: typer.Context,
    definition: Annotated[str | None, typer.Option("--definition", help="Only runs of this definition.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs with this status, e.g. FAILED.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 50,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """List workflow runs, newest first: run id, name, status, tasks ended/all, started, duration."""
    if ctx.invoked_subcommand is not None:
        return
    from shiftwork.api.service import parse_status
    from shiftwork.models import ListJobsQuery
    from shiftwork.models.paging import take

    query = ListJobsQuery(kind="workflow", status=parse_status(status), job_definition_id=definition, max_items=limit)
    with stack(state_dir):
        service = backend(state_dir)
        runs = take(service.list_jobs, query, lambda page: page.jobs, limit)
        rows = [(run, service.workflows.tasks(run.job_id)) for run in runs]
    if as_json:
        print(json.dumps([run.model_dump(mode="json") for run in runs], indent=2))
    elif not rows:
        filtered = definition or status
        console.print("no runs match" if filtered else "no runs yet: try [bold]shiftwork workflow run FILE.py:FUNC[/]")
    else:
        console.print(runs_table(rows))


@runs_app.command("show")
@handle_errors
def show(run_id: RunArgument, as_json: JsonOption = False, state_dir: StateDirOption = None) -> None:
    """A run's details: each task's state, attempt, resources, launch latency, run time and cost; a text Gantt."""
    with stack(state_dir):
        details = backend(state_dir).workflows.details(run_id)
    if as_json:
        print(details.model_dump_json(indent=2))
    else:
        console.print(run_report(details))


@runs_app.command("logs")
@handle_errors
def logs(run_id: RunArgument, task: TaskOption, state_dir: StateDirOption = None) -> None:
    """Print what a task printed (its stdout and stderr)."""
    with stack(state_dir):
        workflows = backend(state_dir).workflows
        token = None
        while True:
            events, following = workflows.logs(run_id, task, token)
            for event in events:
                print(event["message"])
            if not events or following in (None, token):
                break
            token = following
    sys.stdout.flush()


@runs_app.command("result")
@handle_errors
def result(
    run_id: RunArgument,
    task: TaskOption,
    out: Annotated[Path | None, typer.Option("--out", help="Download a pickled result to this file.")] = None,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """A task's result: its JSON value, or, for a pickled Python object, where to download it (--out FILE)."""
    with stack(state_dir):
        info = backend(state_dir).workflows.result(run_id, task)
        if info.format == "pickle" and out is not None:
            written = _download(info.download_url or "", out)
    if info.format == "json":
        if as_json:
            print(json.dumps(info.value, indent=2))
        else:
            console.print_json(data=info.value)
        return
    if as_json:
        print(info.model_dump_json(indent=2))
    elif out is not None:
        console.print(f"{task}'s result (a pickled Python object, {written} bytes) written to {out}", highlight=False)
    else:
        console.print(
            f"{task}'s result is a pickled Python object: download it with [bold]--out FILE[/] "
            "(and unpickle it only if you trust the run), or read it in Python with run.result(task)",
            highlight=False,
        )


def _download(url: str, target: Path) -> int:
    import urllib3

    response = urllib3.request("GET", url)
    if response.status != 200:
        from shiftwork.client import ApiError

        raise ApiError(response.status, "the result's download failed: try again")
    target.expanduser().write_bytes(response.data)
    return len(response.data)


@runs_app.command("rerun")
@handle_errors
def rerun(
    run_id: RunArgument,
    full: Annotated[bool, typer.Option("--full", help="Rerun every task, not only the failed ones.")] = False,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Run this version of the definition's code.")
    ] = None,
    wait: WaitOption = False,
    as_json: JsonOption = False,
    state_dir: StateDirOption = None,
) -> None:
    """A new run of a finished run's workflow, reusing its completed tasks (all of them rerun with --full)."""
    with stack(state_dir, run_jobs=True) as info:
        service = backend(state_dir)
        job = service.workflows.rerun(run_id, full=full, version=version)
        _started(job, as_json)
        _finish(service, job, wait or info.mode == "command", wait, as_json)
