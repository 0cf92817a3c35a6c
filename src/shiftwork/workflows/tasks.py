"""@task and notebook_task: the steps a @workflow body wires together."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, overload

from shiftwork.errors import InvalidSpec
from shiftwork.models.parameters import check_parameter_name
from shiftwork.workflows.dag import (
    Node,
    Recording,
    TaskOptions,
    TaskResult,
    bind_arguments,
    check_task_name,
    current,
    make_options,
    to_tree,
)

_MISSING: Any = object()


class Task:
    """A workflow's step: called in a @workflow body it records a task; called anywhere else it just runs."""

    def __init__(self, fn: Callable[..., Any], name: str, options: TaskOptions) -> None:
        functools.update_wrapper(self, fn)  # the module-level name, docstring and signature stay the function's
        self.fn = fn
        self.name = name
        self.options = options

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        rec = current()
        if rec is None:
            return self.fn(*args, **kwargs)
        return self._record(rec, bind_arguments(self.name, self.fn, args, kwargs), None)

    def map(self, items: Any = _MISSING, /, *args: Any, argument: str | None = None, **kwargs: Any) -> Any:
        """One instance per element of another task's list, each passed as `argument` (default: the first not given)."""
        # downstream, the mapped task's result is the list of its instances' results (a fan-in)
        if items is _MISSING:
            items = kwargs.pop("items", _MISSING)
        if items is _MISSING or args:
            raise InvalidSpec(
                f"tasks.{self.name}.map",
                None,
                f"give the list first and the rest by keyword: {self.name}.map(items=load(day), other=...)",
            )
        mapped = self._mapped_parameter(kwargs, argument)
        rec = current()
        if rec is None:
            return [self.fn(**kwargs, **{mapped: element}) for element in items]
        if not isinstance(items, TaskResult):
            raise InvalidSpec(
                f"tasks.{self.name}.map",
                items,
                "maps over another task's result (a list known when the run "
                "executes): for a list known now, call the task once per element in the body",
            )
        return self._record(rec, bind_arguments(self.name, self.fn, (), {**kwargs, mapped: items}), mapped)

    def _mapped_parameter(self, kwargs: dict[str, Any], argument: str | None) -> str:
        params = inspect.signature(self.fn).parameters
        named = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        where = f"tasks.{self.name}.map"
        if argument is None:
            free = [name for name in named if name not in kwargs]
            if not free:
                raise InvalidSpec(where, None, "every parameter is given: leave out the one each element goes to")
            return free[0]
        if argument not in named:
            raise InvalidSpec(where, argument, f"{self.name}() takes no such argument: name one of {', '.join(named)}")
        if argument in kwargs:
            raise InvalidSpec(where, argument, "is given by keyword too: leave it out, .map() passes each element")
        return argument

    def _record(self, rec: Recording, arguments: dict[str, Any], mapped: str | None) -> TaskResult:
        trees = {key: to_tree(value, f"tasks.{self.name}.arguments.{key}", rec) for key, value in arguments.items()}
        return rec.add(Node(self.name, trees, self.options, task=self, map_argument=mapped))

    def __repr__(self) -> str:
        return f"<Task {self.name!r} of {self.fn.__module__}.{self.fn.__qualname__}>"


@overload
def task(fn: Callable[..., Any], /) -> Task: ...


@overload
def task(
    *,
    memory: str | int | None = None,
    cpu: float | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    executor: str = "fargate",
    name: str | None = None,
) -> Callable[[Callable[..., Any]], Task]: ...


def task(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    memory: str | int | None = None,
    cpu: float | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    executor: str = "fargate",
    name: str | None = None,
) -> Task | Callable[[Callable[..., Any]], Task]:
    """Mark a module-level function as a workflow task (options left out are the workflow's); `@task()` works too."""

    def decorate(function: Callable[..., Any]) -> Task:
        if not callable(function):
            raise InvalidSpec("task", function, "decorates a function: put @task above a def")
        if name is None and function.__name__ == "<lambda>":
            from shiftwork.workflows.code import check_importable

            check_importable(function, "task <lambda>")  # refused now: it has no name to give the error
        label = check_task_name(name or function.__name__, f"tasks.{name or function.__name__}.name")
        options = make_options(label, memory=memory, cpu=cpu, retries=retries, timeout=timeout, executor=executor)
        return Task(function, label, options)

    return decorate if fn is None else decorate(fn)


def notebook_task(
    path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    output_formats: list[str] | None = None,
    memory: str | int | None = None,
    cpu: float | None = None,
    retries: int | None = None,
    timeout: float | None = None,
) -> TaskResult:
    """A task that runs a notebook (papermill) beside the workflow's module, `parameters` injected into it."""
    from shiftwork.workflows.code import notebook_path

    rec = current()
    if rec is None:
        raise InvalidSpec("notebook_task", str(path), "is called inside a @workflow function's body: it adds a task")
    relative = notebook_path(rec.folder, path, f"tasks.{name or Path(path).stem}.notebook")
    label = check_task_name(name or Path(relative).stem, f"tasks.{name or relative}.name")
    if not isinstance(parameters, dict | None):
        raise InvalidSpec(f"tasks.{label}.parameters", parameters, "give a dict of parameter name -> value")
    trees: dict[str, Any] = {}
    for key, value in (parameters or {}).items():
        try:
            check_parameter_name(key)
        except InvalidSpec as error:
            raise InvalidSpec(f"tasks.{label}.parameters", key, error.fix) from None
        trees[key] = to_tree(value, f"tasks.{label}.parameters.{key}", rec)
    options = make_options(
        label,
        memory=memory,
        cpu=cpu,
        retries=retries,
        timeout=timeout,
        executor="fargate",
        output_formats=output_formats,
    )
    return rec.add(Node(label, trees, options, notebook=relative))
