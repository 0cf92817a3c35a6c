"""@workflow: a function whose body, run once with placeholders, records the DAG its spec holds."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shiftwork.errors import InvalidSpec
from shiftwork.models.limits import as_invalid_spec
from shiftwork.models.resources import Resources
from shiftwork.models.workflow import REQUIRED, TaskSpec, WorkflowSpec
from shiftwork.workflows import code
from shiftwork.workflows.dag import Node, Param, make_options, recording, resolve

if TYPE_CHECKING:
    from shiftwork.models import DescribeJobDefinition
    from shiftwork.workflows.sdk import RunHandle


class Workflow:
    """A @workflow function: its spec, its code's files and how a deploy schedules it."""

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str,
        resources: Resources,
        defaults: dict[str, Any],
        python_requirements: list[str],
        deploy: dict[str, Any],
    ) -> None:
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]  # its name and docstring are the function's
        self.fn = fn
        self.name = name
        self.resources = resources
        self.defaults = defaults  # retries, timeout for tasks that give none
        self.python_requirements = python_requirements
        self._deploy = deploy
        self._spec: WorkflowSpec | None = None

    @property
    def module_file(self) -> Path:
        """The workflow's .py file; refused for a function defined in a notebook or a REPL."""
        code.check_importable(self.fn, f"workflow {self.name}")
        file = code.module_file(self.fn)
        assert file is not None
        return file

    @property
    def folder(self) -> Path:
        """The folder the code snapshot holds; the runner puts it on sys.path."""
        return self.module_file.parent

    def spec(self) -> WorkflowSpec:
        """The DAG the body records (once: recording is deterministic), checked as the server checks it."""
        if self._spec is None:
            self._spec = self._record()
        return self._spec

    def code_files(self) -> dict[str, Path]:
        """The snapshot's files: relative path -> file on disk."""
        return code.code_files(self.folder)

    def deploy_options(self) -> dict[str, Any]:
        """The CreateJobDefinition fields the decorator was given (name, schedule as text, timezone, policies)."""
        return dict(self._deploy)

    def run(self, using: Any = None, **parameters: Any) -> RunHandle:
        """Run it now with these parameters (over its defaults), on the stack connect() reaches; the run's handle."""
        from shiftwork.workflows import sdk

        return sdk.run(self, parameters, using)

    def deploy(self, using: Any = None, **options: Any) -> DescribeJobDefinition:
        """A versioned definition with its schedule (the next version if it exists); options override the
        decorator's (job_definition_id, schedule, max_running_jobs...)."""
        from shiftwork.workflows import sdk

        return sdk.deploy(self, using, **options)

    def rerun(self, run_id: str, full: bool = False, version: int | None = None, using: Any = None) -> RunHandle:
        """A new run linked to `run_id` reusing its completed tasks (all of them run again with full=True)."""
        from shiftwork.workflows import sdk

        return sdk.rerun(run_id, full, version, using)

    def __repr__(self) -> str:
        return f"<Workflow {self.name!r} of {self.fn.__module__}.{self.fn.__qualname__}>"

    def _record(self) -> WorkflowSpec:
        folder, file = self.folder, self.module_file
        function = code.reference(self.fn, self, folder, f"workflow {self.name}")
        parameters = _parameters(self.fn)
        with recording(self.name, folder) as rec:
            self.fn(**{name: Param(name) for name in parameters})
        if not rec.nodes:
            raise InvalidSpec("workflow", self.name, "its body calls no task: call @task functions inside it")
        data = {
            "name": self.name,
            "function": function,
            "module_file": file.relative_to(folder).as_posix(),
            "parameters": parameters,
            "tasks": [self._task(node, folder) for node in rec.nodes],
            "python_requirements": self.python_requirements,
        }
        try:
            return WorkflowSpec.model_validate(data)
        except ValidationError as error:
            raise as_invalid_spec(error) from None

    def _task(self, node: Node, folder: Path) -> TaskSpec:
        options = node.options
        resources = Resources(
            memory=options.memory_mb or self.resources.memory_mb, cpu=options.cpu or self.resources.cpu
        )
        retries = options.retries if options.retries is not None else self.defaults["retries"]
        timeout = options.timeout if options.timeout is not None else self.defaults["timeout"]
        fields: dict[str, Any] = {"kind": "notebook", "notebook": node.notebook}
        if node.task is not None:
            fields = {"function": code.reference(node.task.fn, node.task, folder, f"tasks.{node.name}.function")}
        if options.output_formats is not None:
            fields["output_formats"] = options.output_formats
        try:
            return TaskSpec(
                name=node.name,
                arguments=resolve(node.arguments),
                map_argument=node.map_argument,
                resources=resources,
                retries=retries,
                timeout_seconds=timeout,
                executor=options.executor,
                **fields,
            )
        except ValidationError as error:
            raise as_invalid_spec(error) from None


def _parameters(fn: Callable[..., Any]) -> dict[str, Any]:
    """The workflow function's parameters: each default as JSON, REQUIRED for one without a default."""
    parameters: dict[str, Any] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise InvalidSpec(
                f"parameters.{name}", str(param), "a run gives parameters by name: make it an ordinary parameter"
            )
        parameters[name] = REQUIRED if param.default is param.empty else _as_json(name, param.default)
    return parameters


def _as_json(name: str, value: Any) -> Any:
    """A parameter's value as its JSON form (tuples become lists), or InvalidSpec if it has none."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        raise InvalidSpec(
            f"parameters.{name}",
            value,
            "a parameter is stored as JSON: give a str, number, bool, None, list or dict (and convert it in a task)",
        ) from None


def workflow(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    schedule: Any = None,
    timezone: str | None = None,
    resources: Resources | None = None,
    python_requirements: list[str] | str | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    **definition: Any,
) -> Any:
    """Mark a function whose body wires @task calls together as a workflow; `@workflow` and `@workflow()` work."""
    # resources, retries and timeout: its tasks' defaults. schedule, timezone and the rest (max_running_jobs,
    # misfire_grace_time, coalesce, max_retries, retry_backoff_seconds, notify, tags, watch_prefix,
    # job_definition_id): its definition's, as CreateJobDefinition takes them.

    def decorate(function: Callable[..., Any]) -> Workflow:
        label = name or function.__name__
        if resources is not None and not isinstance(resources, Resources):
            raise InvalidSpec("resources", resources, 'give Resources(memory="1g", cpu=1)')
        try:
            options = make_options("workflow", retries=retries, timeout=timeout, executor="fargate")
        except InvalidSpec as error:  # the workflow's own keyword, not a task's
            raise InvalidSpec(error.field.removeprefix("tasks.workflow."), error.value, error.fix) from None
        given = {"schedule": schedule, "timezone": timezone, **definition}
        deploy = _deploy_options(label, {key: value for key, value in given.items() if value is not None})
        requirements = (
            python_requirements.replace(",", " ").split()
            if isinstance(python_requirements, str)
            else list(python_requirements or [])
        )
        defaults = {"retries": options.retries or 0, "timeout": options.timeout}
        return Workflow(function, label, resources or Resources(), defaults, requirements, deploy)

    return decorate if fn is None else decorate(fn)


def _deploy_options(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """The definition fields given, checked by the definition model (a Schedule becomes its cron text)."""
    from shiftwork.models.definition import DefinitionSpec

    for key in ("input_uri", "parameters", "output_formats", "kernel_name", "package_input_folder"):
        if key in given:
            raise InvalidSpec(key, given[key], "a workflow sets this itself: leave it out of @workflow")
    for key in ("report_mode", "execution_timeout_seconds", "start_timeout_seconds"):
        if key in given:
            raise InvalidSpec(key, given[key], "is a notebook job's setting: leave it out of @workflow")
    try:
        checked = DefinitionSpec.model_validate({"name": name, **given})
    except ValidationError as error:
        raise as_invalid_spec(error) from None
    return checked.model_dump(mode="json", exclude_unset=True)
