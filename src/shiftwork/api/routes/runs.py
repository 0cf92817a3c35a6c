"""/workflows and /runs: run a workflow now or deploy it (its code sent inline), then read its runs.

A workflow's code folder comes as {relative path: base64 content}, as a notebook's folder does (inline.py); its
size is checked before anything is written. Stopping and deleting a run go through /jobs/{id}/stop and DELETE
/jobs/{id}: a run is a job.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shiftwork.api.routes.errors import RESPONSES
from shiftwork.api.routes.inline import materialised_files
from shiftwork.api.routes.jobs import JobLogs, LogEvent
from shiftwork.api.routes.paging import MaxItems, NextToken
from shiftwork.api.service import Service, parse_status
from shiftwork.errors import InvalidSpec
from shiftwork.models import CreateJobDefinition, DescribeJob, DescribeJobDefinition, ListJobsQuery, ListJobsResponse
from shiftwork.models.definition import DefinitionSpec
from shiftwork.models.limits import MAX_QUERY_TEXT, MAX_S3_KEY_BYTES, UUID_PATTERN
from shiftwork.models.workflow import (
    MAX_TASK_NAME,
    DescribeTask,
    RunDetails,
    RunWorkflow,
    TaskDetails,
    TaskResultInfo,
    WorkflowSpec,
)

router = Router()

RunId = Annotated[str, Path(pattern=UUID_PATTERN, description="A workflow run's id (its job's id, a UUID).")]
TaskId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*(\[\d{1,6}\])?$",
        max_length=MAX_TASK_NAME + 8,
        description="A task of the run: its name, or name[index] for an instance of a mapped task.",
    ),
]
CodeFiles = dict[Annotated[str, Field(max_length=MAX_S3_KEY_BYTES)], str]

EXAMPLE_MODULE = "def double(n):\n    return n * 2\n"
# one task taking a run parameter: an example with {"$ref": ...} would read as a JSON reference to schema tools
EXAMPLE_SPEC: dict[str, Any] = {
    "name": "doubles",
    "function": "pipe:doubles",
    "module_file": "pipe.py",
    "parameters": {"n": 1},
    "tasks": [
        {"name": "double", "function": "pipe:double", "arguments": {"n": {"$param": "n"}}, "executor": "lambda"},
    ],
}
EXAMPLE_CODE: dict[str, Any] = {"pipe.py": base64.b64encode(EXAMPLE_MODULE.encode()).decode()}
CODE_HELP = "The workflow's code folder, {relative path: base64 content}; it holds spec.module_file."


class RunWorkflowRequest(RunWorkflow):
    """Run a workflow now: its spec, its code sent inline, the run's parameters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"spec": EXAMPLE_SPEC, "code_files": EXAMPLE_CODE, "parameters": {"n": 21}}]},
    )

    code_files: CodeFiles = Field(description=CODE_HELP)


class DeployWorkflowRequest(DefinitionSpec):
    """A definition whose jobs are runs of this workflow; job_definition_id, if given, is its id (else a UUID)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "spec": EXAMPLE_SPEC,
                    "code_files": EXAMPLE_CODE,
                    "job_definition_id": "doubles",
                    "schedule": "0 6 * * mon,fri",
                    "timezone": "Europe/London",
                    "conflict_policy": "replace",
                }
            ]
        },
    )

    spec: WorkflowSpec
    code_files: CodeFiles = Field(description=CODE_HELP)


class RunWithTasks(BaseModel):
    """A run (its job record) and each of its tasks, in the spec's order."""

    run: DescribeJob
    tasks: list[DescribeTask]


class RunDetailsBody(RunDetails):
    """The run details, typed: the run is its job record."""

    run: DescribeJob
    tasks: list[TaskDetails]


class RerunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool = Field(default=False, description="Rerun every task, not only the failed ones and what follows.")
    version: int | None = Field(default=None, ge=1, description="Run this version of the definition's code.")


def _service() -> Service:
    return Service()


def _module_of(spec: WorkflowSpec, code: dict[str, Any]) -> Any:
    if spec.module_file not in code:
        sent = ", ".join(sorted(code)[:5]) or "no files"
        raise InvalidSpec("spec.module_file", spec.module_file, f"is not among code_files ({sent}): send it")
    return code[spec.module_file]


@router.post("/workflows/runs", responses=RESPONSES)
def run_workflow(request: RunWorkflowRequest) -> DescribeJob:
    """Run a workflow now (no definition): the run, CREATED; follow it at /runs/{run_id}."""
    _module_of(request.spec, request.code_files)
    with materialised_files(request.code_files, "code_files") as code:
        run = RunWorkflow.model_validate(request.model_dump(exclude={"code_files"}))
        return _service().workflows.run(run, code)


@router.post("/workflows/definitions", responses=RESPONSES)
def deploy_workflow(request: DeployWorkflowRequest) -> DescribeJobDefinition:
    """Deploy a workflow as a versioned definition, scheduled like a notebook's (a new version with replace)."""
    from shiftwork.api.workflows import WorkflowCode

    _module_of(request.spec, request.code_files)
    fields = request.model_dump(exclude={"spec", "code_files", "job_definition_id"})
    with materialised_files(request.code_files, "code_files") as code:
        definition = CreateJobDefinition.model_validate({**fields, "input_uri": str(code[request.spec.module_file])})
        workflow = WorkflowCode(request.spec, code)
        return _service().workflows.deploy(definition, workflow, request.job_definition_id)


@router.get("/runs", responses=RESPONSES)
def list_runs(
    job_definition_id: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Only the runs of this definition.")
    ] = None,
    status: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Only runs with this status, e.g. FAILED.")
    ] = None,
    max_items: MaxItems = 100,
    next_token: NextToken = None,
) -> ListJobsResponse:
    """One page of workflow runs, newest first (the jobs of kind workflow: GET /jobs?kind=workflow)."""
    query = ListJobsQuery(
        kind="workflow",
        status=parse_status(status),
        job_definition_id=job_definition_id or None,
        max_items=max_items,
        next_token=next_token or None,
    )
    return _service().list_jobs(query)


@router.get("/runs/<run_id>", responses=RESPONSES)
def get_run(run_id: RunId) -> RunWithTasks:
    workflows = _service().workflows
    return RunWithTasks(run=workflows.get_run(run_id), tasks=workflows.tasks(run_id))


@router.get("/runs/<run_id>/details", responses=RESPONSES)
def run_details(run_id: RunId) -> RunDetailsBody:
    """Each task's times, state, resources (and their Fargate rounding), launch latency, run time, cost; totals."""
    details = _service().workflows.details(run_id)
    return RunDetailsBody.model_validate(details.model_dump())


@router.get("/runs/<run_id>/tasks/<task_id>", responses=RESPONSES)
def get_task(run_id: RunId, task_id: TaskId) -> DescribeTask:
    return _service().workflows.task(run_id, task_id)


@router.get("/runs/<run_id>/tasks/<task_id>/result", responses=RESPONSES)
def task_result(run_id: RunId, task_id: TaskId) -> TaskResultInfo:
    """A JSON result as its value; a pickled Python object as a presigned download URL (valid one hour)."""
    return _service().workflows.result(run_id, task_id)


@router.get("/runs/<run_id>/tasks/<task_id>/logs", responses=RESPONSES)
def task_logs(
    run_id: RunId,
    task_id: TaskId,
    next_token: Annotated[str | None, Query(max_length=MAX_QUERY_TEXT)] = None,
) -> JobLogs:
    """One batch of what the task printed, oldest first; send next_token back for the next."""
    events, token = _service().workflows.logs(run_id, task_id, next_token or None)
    return JobLogs(events=[LogEvent(**event) for event in events], next_token=token)


@router.post("/runs/<run_id>/rerun", responses=RESPONSES)
def rerun(run_id: RunId, request: RerunRequest) -> DescribeJob:
    """A new run linked to this finished one, reusing its completed tasks unless full."""
    return _service().workflows.rerun(run_id, full=request.full, version=request.version)
