"""Settings read from SHIFTWORK_* environment variables, and the names infra/ shares with the library.

A small reader of our own rather than pydantic-settings: every Lambda imports this module, and pydantic-settings
(with the BaseSettings model it builds) cost more to import than the rest of a handler together.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from shiftwork.errors import InvalidSpec

# Environment variables the runner container receives (ECS overrides, or the LocalLauncher's subprocess).
ENV_JOB_ID = "SHIFTWORK_JOB_ID"
ENV_TASK_ID = "SHIFTWORK_TASK_ID"  # set for one task of a workflow run: the runner runs that task
ENV_TASK_ATTEMPT = "SHIFTWORK_TASK_ATTEMPT"  # which attempt of it: a late event of an earlier one is told apart
ENV_TASK_RESULT_DIR = "SHIFTWORK_TASK_RESULT_DIR"  # a notebook task's kernel: where task_result() writes
ENV_ENDPOINT_URL = "SHIFTWORK_ENDPOINT_URL"
ENV_STATE_DIR = "SHIFTWORK_STATE_DIR"
ENV_API_URL = "SHIFTWORK_API_URL"  # the CLI, connect() and the front ends use that REST API when it is set
ENV_API_TOKEN = "SHIFTWORK_API_TOKEN"
ENV_WARM_KERNEL = "SHIFTWORK_WARM_KERNEL"  # the kernel a local warm runner starts ahead of its job
ENV_PREFIX = "SHIFTWORK_"  # Settings.<field> is read from SHIFTWORK_<FIELD> (any case)

# Default resource names; the CDK app passes the real (generated) names to functions and containers by env.
JOBS_TABLE = "shiftwork-jobs"
DEFINITIONS_TABLE = "shiftwork-definitions"
TASKS_TABLE = "shiftwork-tasks"  # one item per task of a workflow run: (job_id, task_id)
TASK_FUNCTION = "shiftwork-task"  # the Lambda executor of light workflow tasks
BUCKET = "shiftwork-data"
CLUSTER = "shiftwork"
TASK_FAMILY = "shiftwork-runner"
CONTAINER_NAME = "runner"
LOG_GROUP = "/shiftwork/runner"
LOG_STREAM_PREFIX = "runner"
SCHEDULE_GROUP = "shiftwork"


def default_state_dir() -> Path:
    """Where the embedded stack keeps its state when neither --state-dir nor SHIFTWORK_STATE_DIR says."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "shiftwork"


def _text(raw: str) -> str:
    return raw


def _integer(raw: str) -> int:
    return int(raw.strip())


def _number(raw: str) -> float:
    return float(raw.strip())


def _string_list(raw: str) -> list[str]:
    value = json.loads(raw)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("not a list of strings")
    return value


def _rule(valid: Callable[[Any], bool], fix: str, parse: Callable[[str], Any] = _text) -> dict[str, Any]:
    """A field's metadata: how its environment variable parses, which values are valid, and how to fix a bad one."""
    return {"parse": parse, "valid": valid, "fix": fix}


def _between(low: float, high: float = math.inf) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _positive_seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _text_valid(value: Any) -> bool:
    return isinstance(value, str)


def _optional_text_valid(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _strings_valid(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


_TEXT = _rule(_text_valid, "must be a string")
_OPTIONAL_TEXT = _rule(_optional_text_valid, "must be a string or None")
_STRINGS = _rule(
    _strings_valid, 'must be a JSON list of strings, e.g. \'["subnet-0abc", "subnet-0def"]\'', parse=_string_list
)


@dataclass(frozen=True, init=False)
class Settings:
    """Everything configurable, from SHIFTWORK_<FIELD> environment variables; keyword arguments win over them.

    An invalid value raises InvalidSpec naming the variable, the value and what would be valid.
    """

    state_dir: Path = field(
        default_factory=default_state_dir,
        metadata=_rule(lambda v: isinstance(v, Path), "must be a directory path", parse=Path),
    )
    endpoint_url: str | None = field(default=None, metadata=_OPTIONAL_TEXT)  # the AWS endpoint: moto locally
    region: str = field(default="us-east-1", metadata=_TEXT)
    jobs_table: str = field(default=JOBS_TABLE, metadata=_TEXT)
    definitions_table: str = field(default=DEFINITIONS_TABLE, metadata=_TEXT)
    tasks_table: str = field(default=TASKS_TABLE, metadata=_TEXT)
    task_function: str = field(default=TASK_FUNCTION, metadata=_TEXT)  # name or ARN of the Lambda executor
    task_function_memory: int = field(  # its memory size (MB), as the stack set it; 0: ask Lambda
        default=0, metadata=_rule(_between(0, 10240), "must be MB from 128 to 10240, or 0", parse=_integer)
    )
    bucket: str = field(default=BUCKET, metadata=_TEXT)
    cluster: str = field(default=CLUSTER, metadata=_TEXT)
    task_definition: str = field(default=TASK_FAMILY, metadata=_TEXT)
    container_name: str = field(default=CONTAINER_NAME, metadata=_TEXT)
    log_group: str = field(default=LOG_GROUP, metadata=_TEXT)
    subnets: list[str] = field(default_factory=list, metadata=_STRINGS)
    security_groups: list[str] = field(default_factory=list, metadata=_STRINGS)
    # the kernels the runner image has (where jobs run is not where they are submitted); empty: this machine's
    runner_kernels: list[str] = field(default_factory=list, metadata=_STRINGS)
    dispatch_queue_url: str | None = field(default=None, metadata=_OPTIONAL_TEXT)  # locally, run-now goes here
    schedule_group: str = field(default=SCHEDULE_GROUP, metadata=_TEXT)
    scheduler_target_arn: str | None = field(default=None, metadata=_OPTIONAL_TEXT)  # what schedules invoke
    scheduler_role_arn: str = field(default="arn:aws:iam::123456789012:role/shiftwork-scheduler", metadata=_TEXT)
    notifications_topic_arn: str | None = field(default=None, metadata=_OPTIONAL_TEXT)  # SNS, job notifications
    launcher: Literal["local", "fargate"] = field(
        default="fargate", metadata=_rule(lambda v: v in ("local", "fargate"), "must be 'local' or 'fargate'")
    )
    max_parallel_jobs: int = field(
        default_factory=lambda: os.cpu_count() or 1,
        metadata=_rule(_between(1), "must be an integer >= 1, e.g. 4", parse=_integer),
    )
    stop_timeout_seconds: float = field(  # SIGTERM to SIGKILL, like ECS stopTimeout
        default=10.0, metadata=_rule(_positive_seconds, "must be a number of seconds > 0, e.g. 10", parse=_number)
    )
    moto_port: int = field(  # the embedded stack's endpoint; 0 picks a free port
        default=0,
        metadata=_rule(_between(0, 65535), "must be a port from 0 to 65535 (0: any free one)", parse=_integer),
    )
    journal_compact_bytes: int = field(  # fold the journal into a snapshot past this
        default=16 << 20, metadata=_rule(_between(1), "must be a number of bytes >= 1, e.g. 16777216", parse=_integer)
    )

    def __init__(self, environ: Mapping[str, str] | None = None, **values: Any) -> None:
        """Each field from `values`, else SHIFTWORK_<FIELD> in `environ` (default os.environ), else its default."""
        environ = os.environ if environ is None else environ
        found = {name.upper(): raw for name, raw in environ.items() if name[:10].upper() == ENV_PREFIX}
        for spec in fields(self):
            variable = ENV_PREFIX + spec.name.upper()
            if spec.name in values:
                value = values.pop(spec.name)
                if not spec.metadata["valid"](value):
                    raise InvalidSpec(spec.name, value, spec.metadata["fix"])
            elif variable in found:
                value = _from_environment(spec, variable, found[variable])
            else:
                value = spec.default_factory() if spec.default_factory is not MISSING else spec.default
            object.__setattr__(self, spec.name, value)
        if values:
            known = ", ".join(spec.name for spec in fields(self))
            raise TypeError(f"Settings has no field {next(iter(values))!r}; the fields are: {known}")


def _from_environment(spec: Field[Any], variable: str, raw: str) -> Any:
    """The value of `variable` for `spec`, or InvalidSpec naming the variable, its value and the fix."""
    try:
        value = spec.metadata["parse"](raw)
    except ValueError:  # json.JSONDecodeError is one
        value = _INVALID
    if value is _INVALID or not spec.metadata["valid"](value):
        raise InvalidSpec(variable, raw, f"{spec.metadata['fix']}; or unset it for the default")
    return value


_INVALID = object()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; call get_settings.cache_clear() after changing the environment."""
    return Settings()
