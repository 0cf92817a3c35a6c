"""Workflows: the DAG spec a @workflow function records, and the task records of a run.

A spec is data, never code: each task names its callable (`module:qualname`, imported by the runner from the run's
code snapshot) or its notebook, and its arguments as JSON trees in which `{"$ref": TASK}` is another task's result
and `{"$param": NAME}` one of the run's parameters. The server checks a spec it is sent as strictly as the SDK
checks the one it records, so a spec posted to the REST API by hand gets the same errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from shiftwork.errors import DuplicateJobNameError, InvalidSpec
from shiftwork.models.base import Model
from shiftwork.models.limits import Name, Retries, TimeoutSeconds
from shiftwork.models.parameters import check_parameters
from shiftwork.models.resources import Resources, check_task_resources

REF = "$ref"
PARAM = "$param"
MAX_TASKS = 200  # tasks a spec names (a mapped task's instances are not counted)
MAX_DEPENDENTS = 90  # direct dependents of one task: its settling is one DynamoDB transaction (100 items)
MAX_MAP_INSTANCES = 1000  # instances one mapped task may expand into
MAX_REQUIREMENTS = 100
TASK_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
MAX_TASK_NAME = 64
WORKFLOW_SPEC_FILE = ".shiftwork-workflow.json"  # where a code snapshot keeps its spec, beside the code

TaskName = Annotated[str, Field(pattern=TASK_NAME_PATTERN, min_length=1, max_length=MAX_TASK_NAME)]
Callable_ = Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w]*$", max_length=512)]
Requirement = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][^\s;]*( ?[<>=!~].*)?$")]


class Executor(StrEnum):
    FARGATE = "fargate"  # its own ECS Fargate task (a LocalLauncher subprocess on the embedded stack)
    LAMBDA = "lambda"  # the task Lambda function (in-process in a warm worker on the embedded stack)


class TaskKind(StrEnum):
    FUNCTION = "function"
    NOTEBOOK = "notebook"


class TaskStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its inputs
    QUEUED = "QUEUED"  # its inputs are ready; launched or being launched
    IN_PROGRESS = "IN_PROGRESS"  # its runner started (a mapped task: its instances are running)
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"  # an input failed: it never runs


TASK_TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.STOPPED, TaskStatus.UPSTREAM_FAILED})


def refs_in(value: Any) -> Iterator[str]:
    """The task names an argument tree refers to, in order, repeats included."""
    if isinstance(value, dict):
        if set(value) == {REF}:
            yield value[REF]
            return
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item)


def params_in(value: Any) -> Iterator[str]:
    """The run parameters an argument tree refers to."""
    if isinstance(value, dict):
        if set(value) == {PARAM}:
            yield value[PARAM]
            return
        for item in value.values():
            yield from params_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from params_in(item)


class TaskSpec(Model):
    """One task of a workflow as its definition stores it."""

    model_config = ConfigDict(extra="forbid")

    name: TaskName
    kind: TaskKind = TaskKind.FUNCTION
    function: Callable_ | None = None  # module:qualname, for a function task
    notebook: Annotated[str, Field(min_length=1, max_length=512)] | None = None  # path under the code folder
    arguments: dict[str, Any] = Field(default_factory=dict)  # parameter name -> JSON tree with $ref / $param
    map_argument: str | None = None  # a mapped task: this argument's list is split, one element per instance
    resources: Resources = Field(default_factory=Resources)
    retries: Retries = 0
    timeout_seconds: TimeoutSeconds | None = None
    executor: Executor = Executor.FARGATE
    output_formats: list[str] = Field(default_factory=lambda: ["ipynb"], max_length=20)  # a notebook task's

    @property
    def upstream(self) -> list[str]:
        """The tasks whose results it takes, each once, in the order its arguments name them."""
        return list(dict.fromkeys(refs_in(self.arguments)))

    @model_validator(mode="after")
    def _shape(self) -> TaskSpec:
        if self.kind == TaskKind.FUNCTION and not self.function:
            raise InvalidSpec(f"tasks.{self.name}.function", None, "a function task names its module:function")
        if self.kind == TaskKind.NOTEBOOK and not self.notebook:
            raise InvalidSpec(f"tasks.{self.name}.notebook", None, "a notebook task names its notebook's path")
        if self.kind == TaskKind.NOTEBOOK:
            check_parameters(self.arguments)  # injected into the notebook as variables: identifiers
        check_task_resources(self.name, self.resources, self.executor, self.timeout_seconds, self.kind)
        if self.map_argument is not None:
            mapped = self.arguments.get(self.map_argument)
            if not (isinstance(mapped, dict) and set(mapped) == {REF}):
                raise InvalidSpec(
                    f"tasks.{self.name}.map_argument",
                    self.map_argument,
                    "a mapped argument takes another task's result (a list): pass that task's result to .map()",
                )
        return self


class WorkflowSpec(Model):
    """A workflow's DAG, parameters and requirements: what `@workflow` records and a definition versions."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    function: Callable_  # the @workflow function, module:qualname (for a rerun's or a deploy's provenance)
    module_file: Annotated[str, Field(min_length=1, max_length=255)]  # the module's file under the code folder
    parameters: dict[str, Any] = Field(default_factory=dict)  # the workflow function's parameters and defaults
    tasks: list[TaskSpec] = Field(min_length=1, max_length=MAX_TASKS)
    python_requirements: list[Requirement] = Field(default_factory=list, max_length=MAX_REQUIREMENTS)

    def task(self, name: str) -> TaskSpec:
        for task in self.tasks:
            if task.name == name:
                return task
        raise InvalidSpec("task", name, f"is not a task of {self.name}: use one of {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [task.name for task in self.tasks]

    def downstream(self) -> dict[str, list[str]]:
        """Each task's direct dependents, in spec order."""
        found: dict[str, list[str]] = {task.name: [] for task in self.tasks}
        for task in self.tasks:
            for upstream in task.upstream:
                found[upstream].append(task.name)
        return found

    def roots(self) -> list[str]:
        return [task.name for task in self.tasks if not task.upstream]

    @model_validator(mode="after")
    def _graph(self) -> WorkflowSpec:
        check_parameters(self.parameters)
        seen: set[str] = set()
        for task in self.tasks:
            if task.name in seen:
                raise DuplicateJobNameError(task.name)
            seen.add(task.name)
        for task in self.tasks:
            for name in task.upstream:
                if name not in seen:
                    raise InvalidSpec(f"tasks.{task.name}.arguments", name, "refers to no task of this workflow")
                if name == task.name:
                    raise InvalidSpec(f"tasks.{task.name}.arguments", name, "a task cannot take its own result")
            for name in params_in(task.arguments):
                if name not in self.parameters:
                    raise InvalidSpec(
                        f"tasks.{task.name}.arguments", name, "is not a parameter of the workflow function"
                    )
        for name, dependents in self.downstream().items():
            if len(dependents) > MAX_DEPENDENTS:
                raise InvalidSpec(
                    f"tasks.{name}",
                    f"{len(dependents)} dependents",
                    f"a task feeds at most {MAX_DEPENDENTS} tasks directly: gather them with .map() or a fan-in task",
                )
        _check_acyclic(self)
        return self


def _check_acyclic(spec: WorkflowSpec) -> None:
    """InvalidSpec naming a task on a cycle, if the graph has one (Kahn's algorithm)."""
    pending = {task.name: len(task.upstream) for task in spec.tasks}
    downstream = spec.downstream()
    ready = [name for name, count in pending.items() if count == 0]
    while ready:
        for dependent in downstream[ready.pop()]:
            pending[dependent] -= 1
            if pending[dependent] == 0:
                ready.append(dependent)
    cyclic = sorted(name for name, count in pending.items() if count > 0)
    if cyclic:
        raise InvalidSpec(
            f"tasks.{cyclic[0]}", ", ".join(cyclic), "these tasks depend on each other in a cycle: break the cycle"
        )


TASK_ID_PATTERN = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(\[(?P<index>\d+)\])?$")


def instance_id(name: str, index: int) -> str:
    """The task id of a mapped task's index-th instance: fit[3]."""
    return f"{name}[{index}]"


class TaskTimes(Model):
    """A task's moments, ms since the epoch: as Datatailr's run details give them."""

    submit_time: int | None = None  # its inputs were ready: it was queued
    provision_time: int | None = None  # its container (or Lambda) was asked for
    start_time: int | None = None  # its runner started
    end_time: int | None = None


class DescribeTask(TaskTimes):
    """One task of a run, as the store keeps it and every front end shows it."""

    job_id: str  # the run
    task_id: str  # its name, or name[index] for a mapped task's instance
    name: str  # the spec's task name
    kind: TaskKind = TaskKind.FUNCTION
    status: TaskStatus = TaskStatus.PENDING
    status_message: str | None = None
    error_traceback: str | None = None
    upstream: list[str] = Field(default_factory=list)  # task ids
    downstream: list[str] = Field(default_factory=list)
    pending_inputs: int = 0  # upstream tasks not yet ended (a mapped task: instances not yet ended)
    failed_inputs: int = 0  # upstream tasks (or instances) that ended without completing
    attempt: int = 1
    max_attempts: int = 1
    executor: Executor = Executor.FARGATE
    requested: Resources = Field(default_factory=Resources)  # what the spec asked for
    resources: Resources | None = None  # what it was launched with (rounded up to a Fargate size)
    timeout_seconds: float | None = None
    task_arn: str | None = None
    log_stream: str | None = None
    result_key: str | None = None  # S3 key of result.json or result.pickle
    result_format: Literal["json", "pickle"] | None = None
    result_length: int | None = None  # len() of a list result, for mapping over it
    map_index: int | None = None  # an instance: its element
    map_count: int | None = None  # a mapped task: how many instances it expanded into
    reused_from: str | None = None  # a rerun: the run whose completed result this task reuses
    settled: bool = False  # its end was passed on to its dependents and its run
    job_files: list[dict[str, str]] = Field(default_factory=list)  # a notebook task's outputs

    @property
    def is_terminal(self) -> bool:
        return self.status in TASK_TERMINAL


REQUIRED = {"$required": True}  # a workflow parameter with no default: each run must give it


def run_parameters(spec: WorkflowSpec, given: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The spec's defaults with `given` over them; InvalidSpec for a parameter it does not take, or one missing.

    `partial`: required parameters left out are allowed (a definition's own parameters, completed at run time).
    """
    check_parameters(given)
    for name in given:
        if name not in spec.parameters:
            takes = ", ".join(spec.parameters) or "no parameters"
            raise InvalidSpec(f"parameters.{name}", given[name], f"{spec.name} takes {takes}")
    merged = {**spec.parameters, **given}
    missing = [name for name, value in merged.items() if value == REQUIRED]
    if missing and not partial:
        raise InvalidSpec(f"parameters.{missing[0]}", None, f"{spec.name} needs it: give -p {missing[0]}=VALUE")
    return {name: value for name, value in merged.items() if value != REQUIRED}


class RunWorkflow(Model):
    """Run a workflow now: its spec (what @workflow recorded) and the run's parameters."""

    model_config = ConfigDict(extra="forbid")

    spec: WorkflowSpec
    parameters: dict[str, Any] = Field(default_factory=dict)
    name: Name | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(default_factory=list, max_length=50)


class TaskResultInfo(Model):
    """A task's result as the API gives it: the JSON value, or where to download a pickled Python object."""

    task_id: str
    format: Literal["json", "pickle"]
    value: Any = None
    download_url: str | None = None
    key: str | None = None


class TaskDetails(DescribeTask):
    """A task with what its run details show: how long it waited and ran, what it cost, how it was sized."""

    launch_seconds: float | None = None  # submitted to started: provisioning and start-up
    run_seconds: float | None = None  # started to ended
    cost_usd: float | None = None  # estimated (models/resources.py's price table)
    sizing: str | None = None  # "0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB" when it was rounded up


class RunDetails(Model):
    """A run as Datatailr's run details give it: every task's times, state, resources and cost; totals."""

    run: Any  # DescribeJob (Any: models.job imports nothing from here, and this keeps it so)
    tasks: list[TaskDetails]
    total_cost_usd: float
    wall_seconds: float | None = None
    launch_seconds_total: float = 0.0
    run_seconds_total: float = 0.0
    reused: int = 0
