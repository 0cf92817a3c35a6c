"""Recording a DAG: inside a @workflow body, calling a @task adds a task and returns a handle to its result.

The body runs once, when the spec is built. What it holds are placeholders (TaskResult, Param) that can only be
passed on to tasks: each use as a value is refused, since the value exists only when the run executes.
"""

from __future__ import annotations

import contextvars
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shiftwork.errors import InvalidSpec, NotAnAttributeError, NotAValueError
from shiftwork.models.limits import as_invalid_spec
from shiftwork.models.resources import Resources, parse_memory
from shiftwork.models.workflow import MAX_TASK_NAME, PARAM, REF, TASK_NAME_PATTERN, Executor, TaskSpec

if TYPE_CHECKING:
    from shiftwork.workflows.tasks import Task

_RECORDING: contextvars.ContextVar[Recording | None] = contextvars.ContextVar("shiftwork_recording", default=None)
_USER_FIELDS = {"timeout_seconds": "timeout"}  # TaskSpec's field -> the keyword a user wrote


@dataclass(frozen=True)
class TaskOptions:
    """How one task asks to run; None: the workflow's setting."""

    memory_mb: int | None = None
    cpu: float | None = None
    retries: int | None = None
    timeout: float | None = None
    executor: Executor = Executor.FARGATE
    output_formats: list[str] | None = None  # a notebook task's


def make_options(name: str, **options: Any) -> TaskOptions:
    """TaskOptions checked now, with the model's own rules, so a bad value is refused naming the task."""
    memory, cpu = options.pop("memory", None), options.pop("cpu", None)
    formats = options.pop("output_formats", None)
    memory_mb = None if memory is None else parse_memory(memory, f"tasks.{name}.memory")
    probe = {"name": name, "function": "m:f", "executor": options["executor"], "retries": options.get("retries") or 0}
    try:
        TaskSpec.model_validate({**probe, "timeout_seconds": options.get("timeout"), "resources": Resources(cpu=cpu)})
        if formats is not None:
            from shiftwork.models.job import JobSpec

            formats = JobSpec(output_formats=formats).output_formats
    except ValidationError as error:
        problem = as_invalid_spec(error)
        where = _USER_FIELDS.get(problem.field, problem.field).removeprefix("resources.")
        raise InvalidSpec(f"tasks.{name}.{where}", problem.value, problem.fix) from None
    options["executor"] = Executor(options["executor"])
    return TaskOptions(memory_mb=memory_mb, cpu=cpu, output_formats=formats, **options)


@dataclass(eq=False)
class Node:
    """One task a body recorded; its arguments still hold TaskResults, so .alias() may come after their use."""

    name: str
    arguments: dict[str, Any]
    options: TaskOptions
    task: Task | None = None  # a function task
    notebook: str | None = None  # a notebook task: its path under the workflow's folder
    map_argument: str | None = None


@dataclass(eq=False)
class Recording:
    """The tasks one run of a @workflow body adds, in the order it adds them."""

    workflow: str
    folder: Path
    nodes: list[Node] = field(default_factory=list)

    def add(self, node: Node) -> TaskResult:
        self.nodes.append(node)
        return TaskResult(node, self)


def current() -> Recording | None:
    """The recording under way in this thread, if a @workflow body is running."""
    return _RECORDING.get()


def recording(workflow: str, folder: Path) -> _Recorder:
    """`with recording(...) as rec:` makes task calls in the block add to rec instead of running."""
    return _Recorder(Recording(workflow, folder))


class _Recorder:
    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self.token: contextvars.Token[Recording | None] | None = None

    def __enter__(self) -> Recording:
        self.token = _RECORDING.set(self.rec)
        return self.rec

    def __exit__(self, *exc: object) -> None:
        assert self.token is not None
        _RECORDING.reset(self.token)


class _Placeholder:
    """What a body holds instead of a value: every use but passing it to a task is refused."""

    __slots__ = ()
    __hash__ = object.__hash__  # kept usable as a dict key although == is refused

    def _what(self) -> str:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # protocols probing (copy, pickle, IPython): an ordinary miss
            raise AttributeError(name)
        raise NotAnAttributeError(self._what(), f"attribute .{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            raise NotAnAttributeError(self._what(), f"setting .{name}")
        object.__setattr__(self, name, value)


def _refuser(use: str) -> Callable[..., Any]:
    def refuse(self: _Placeholder, *args: Any) -> Any:
        raise NotAValueError(self._what(), use)

    return refuse


_ARITHMETIC = "add sub mul matmul truediv floordiv mod divmod pow lshift rshift and xor or".split()  # noqa: SIM905
_REFUSED = {
    "__bool__": "a truth test: if, while, and, or, not",
    "__iter__": "iteration: for, unpacking, list()",
    "__len__": "len()",
    "__getitem__": "indexing",
    "__contains__": "in",
    "__str__": "str() or print()",
    "__format__": "an f-string or format()",
    "__int__": "int()",
    "__float__": "float()",
    "__index__": "an index",
    "__round__": "round()",
    "__call__": "a call",
    **{f"__{op}__": "a comparison" for op in ("eq", "ne", "lt", "le", "gt", "ge")},
    **{f"__{op}__": "arithmetic" for op in ("neg", "pos", "abs", "invert")},
    **{f"__{side}{op}__": "arithmetic" for op in _ARITHMETIC for side in ("", "r")},
}
for _name, _use in _REFUSED.items():
    setattr(_Placeholder, _name, _refuser(_use))


class TaskResult(_Placeholder):
    """A recorded task's result as the body sees it: pass it to other tasks; `.alias()` names the task."""

    __slots__ = ("_node", "_recording")

    def __init__(self, node: Node, rec: Recording) -> None:
        self._node = node
        self._recording = rec

    @property
    def name(self) -> str:
        return self._node.name

    def alias(self, name: str) -> TaskResult:
        """Name this task (by default its function's or notebook's name): two tasks of a workflow never share one."""
        check_task_name(name, f"tasks.{self._node.name}.alias")
        self._node.name = name
        return self

    def _what(self) -> str:
        return f"the result of task {self._node.name!r}"

    def __repr__(self) -> str:
        return f"<TaskResult of {self._node.name!r}: known when the run executes it>"


class Param(_Placeholder):
    """A workflow parameter as the body sees it: given per run, passed to tasks as {"$param": name}."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def _what(self) -> str:
        return f"workflow parameter {self._name!r}"

    def __repr__(self) -> str:
        return f"<Param {self._name!r}: known when a run is given it>"


def check_task_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or len(name) > MAX_TASK_NAME or not re.match(TASK_NAME_PATTERN, name):
        raise InvalidSpec(
            where,
            name,
            f"a task name starts with a letter or _ and has letters, digits, _, . or - (at most {MAX_TASK_NAME})",
        )
    return name


def to_tree(value: Any, where: str, rec: Recording) -> Any:
    """An argument as a JSON tree: Params become {"$param": name}; TaskResults stay for resolve() to name."""
    if isinstance(value, TaskResult):
        if value._recording is not rec:
            raise InvalidSpec(where, value, "comes from another workflow's body: call its task in this body")
        return value
    if isinstance(value, Param):
        return {PARAM: value._name}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list | tuple):
        return [to_tree(item, f"{where}[{index}]", rec) for index, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        if set(value) in ({REF}, {PARAM}):
            raise InvalidSpec(
                where,
                value,
                f"a constant dict with only the key {next(iter(value))} reads as a "
                "reference: give it another key, or pass it through a task or a file",
            )
        return {key: to_tree(item, f"{where}.{key}", rec) for key, item in value.items()}
    from shiftwork.workflows.tasks import Task

    if isinstance(value, Task):
        raise InvalidSpec(where, value.name, f"is the task itself: pass its result, {value.name}(...)")
    raise InvalidSpec(
        where,
        value,
        f"is a {type(value).__name__}, not a JSON value (str, finite number, bool, None, list, dict "
        "with str keys): constants are stored in the spec as JSON; pass it through a task or a file",
    )


def resolve(tree: Any) -> Any:
    """A recorded argument tree with each TaskResult replaced by {"$ref": its task's final name}."""
    if isinstance(tree, TaskResult):
        return {REF: tree._node.name}
    if isinstance(tree, list):
        return [resolve(item) for item in tree]
    if isinstance(tree, dict):
        return {key: resolve(item) for key, item in tree.items()}
    return tree


def bind_arguments(task: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments by parameter name, as the runner will pass them (by keyword)."""
    signature = inspect.signature(fn)
    params = signature.parameters
    names = ", ".join(params) or "none"
    where = f"tasks.{task}.arguments"
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for key in kwargs:
        if key not in params and not takes_any:
            raise InvalidSpec(where, key, f"{task}() takes no argument {key!r}: its parameters are {names}")
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        given = set(list(params)[: len(args)]) | set(kwargs)
        missing = [n for n, p in params.items() if p.default is p.empty and p.kind in _NAMED and n not in given]
        if missing:
            raise InvalidSpec(where, missing[0], f"{task}() needs this argument: pass it ({error})") from None
        positional = [n for n, p in params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        fix = f"{task}() takes at most {len(positional)} ({', '.join(positional) or 'none'}): drop the others"
        raise InvalidSpec(where, f"{len(args)} positional arguments", fix) from None
    arguments: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = params[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif kind in _NAMED:
            arguments[name] = value
        else:
            raise InvalidSpec(
                f"{where}.{name}",
                name,
                "the runner passes a task's arguments by name: make it an ordinary "
                "parameter (not positional-only, not *args)",
            )
    return arguments


_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
