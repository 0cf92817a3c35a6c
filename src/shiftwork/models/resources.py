"""What a workflow task asks for (vCPUs and memory, as a user writes them: "512m", "2g", 0.5), the size Fargate or
Lambda gives it, and what that costs."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from shiftwork.errors import InvalidSpec
from shiftwork.models.base import Model

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNIT_MB = {"": 1, "b": 1 / (1 << 20), "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
MAX_MEMORY_MB = 120 * 1024  # Fargate's largest task
MAX_CPU = 16.0


def parse_memory(value: Any, field: str = "memory") -> int:
    """Megabytes from 512, "512m", "2g", "1.5GiB" (binary units, as Docker and ECS count); a bare number is MB."""
    if isinstance(value, bool):
        raise InvalidSpec(field, value, 'give megabytes or a size such as "512m" or "2g"')
    if isinstance(value, int | float):
        megabytes = float(value)
    else:
        match = _MEMORY.match(str(value))
        if not match:
            raise InvalidSpec(field, value, 'give a size such as "512m", "2g" or a number of megabytes')
        unit = (match.group(2) or "").lower()[:1]
        megabytes = float(match.group(1)) * _UNIT_MB[unit]
    if not 1 <= megabytes <= MAX_MEMORY_MB:
        raise InvalidSpec(field, value, f"must be from 1 MB to {MAX_MEMORY_MB // 1024} GB (Fargate's largest task)")
    return int(-(-megabytes // 1))  # whole megabytes, rounded up


def _as_written(schema: dict[str, Any]) -> None:
    """The JSON schema of what Resources takes: memory as a user writes it ("2g"), a null cpu for the default."""
    properties = schema["properties"]
    properties["cpu"] = {"anyOf": [properties["cpu"], {"type": "null"}], "default": 0.25, "title": "Cpu"}
    properties["memory"] = {
        "anyOf": [{"type": "string", "maxLength": 64}, {"type": "number"}, {"type": "null"}],
        "description": 'A size such as "512m" or "2g", or megabytes: instead of memory_mb.',
    }


class Resources(Model):
    """vCPUs and memory for one task's container; rounded up to a size Fargate offers when it launches."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_as_written)

    cpu: float = Field(default=0.25, gt=0, le=MAX_CPU)
    memory_mb: int = Field(default=512, ge=1, le=MAX_MEMORY_MB)

    def __init__(self, memory: Any = None, cpu: float | None = None, **values: Any) -> None:
        if memory is not None:
            values["memory_mb"] = parse_memory(memory)
        if cpu is not None:
            values["cpu"] = cpu
        super().__init__(**values)

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu_is_a_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("cpu is a number of vCPUs, such as 0.5 or 2")
        return value

    def describe(self) -> str:
        whole_gb = self.memory_mb >= 1024 and self.memory_mb % 1024 in (0, 512)  # 2 GB, 2.5 GB; else 2100 MB
        memory = f"{self.memory_mb / 1024:g} GB" if whole_gb else f"{self.memory_mb} MB"
        return f"{self.cpu:g} vCPU, {memory}"


# -- Fargate sizes ------------------------------------------------------------------------------------------------
# The task cpu (CPU units, 1024 to a vCPU) and memory (MiB) pairs Fargate accepts, as the ECS developer guide's
# "Task CPU and memory" table gives them (docs.aws.amazon.com/AmazonECS/latest/developerguide/
# task_definition_parameters.html#task_size; the same table is in the TaskDefinition.memory API reference).
# 8 and 16 vCPU need Linux platform version 1.4.0 or later (the default, LATEST, is).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
CPU_UNITS = 1024  # ECS counts a vCPU as 1024 CPU units


def fargate_size(resources: Resources, field: str = "resources") -> Resources:
    """The cheapest Fargate size with at least the cpu and memory asked for; InvalidSpec if no size has both."""
    units = math.ceil(resources.cpu * CPU_UNITS - 1e-6)  # 0.3 vCPU is 307.2 units: 308 are needed
    fitting = [
        (cpu, memory)
        for cpu, memories in FARGATE_SIZES.items()
        for memory in memories
        if cpu >= units and memory >= resources.memory_mb
    ]
    if not fitting:
        raise InvalidSpec(
            field,
            resources.describe(),
            "Fargate's largest task is 16 vCPU with 120 GB: ask for less, or split the work into mapped tasks",
        )
    rates = FARGATE_PRICES["x86"]  # ARM's rates rank the sizes the same way
    cpu, memory = min(fitting, key=lambda size: (_hourly(size[0] / CPU_UNITS, size[1], rates), size))
    return Resources(cpu=cpu / CPU_UNITS, memory_mb=memory)


def describe_rounding(requested: Resources, granted: Resources) -> str | None:
    """How a size was rounded up ("0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB"); None if it was granted as asked."""
    if (requested.cpu, requested.memory_mb) == (granted.cpu, granted.memory_mb):
        return None
    return f"{requested.describe()} -> {granted.describe()}"


# -- the Lambda executor ------------------------------------------------------------------------------------------
# Lambda takes only a memory size (128 to 10240 MB in 1 MB steps) and gives CPU in proportion to it: 1769 MB is
# one vCPU's worth (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). So a task's cpu becomes
# memory: it needs max(its memory, cpu x 1769 MB), and no more than 10240 MB (about 5.8 vCPU) can be given.
# A function runs at most 900 s (15 minutes).
LAMBDA_MIN_MEMORY_MB = 128
LAMBDA_MAX_MEMORY_MB = 10240
LAMBDA_MB_PER_VCPU = 1769
LAMBDA_MAX_TIMEOUT_SECONDS = 900


def lambda_memory(resources: Resources, field: str = "resources") -> int:
    """The Lambda memory size (MB) that gives the task its memory and cpu; InvalidSpec if Lambda has none."""
    needed = max(LAMBDA_MIN_MEMORY_MB, resources.memory_mb, math.ceil(resources.cpu * LAMBDA_MB_PER_VCPU - 1e-6))
    if needed > LAMBDA_MAX_MEMORY_MB:
        most_cpu = LAMBDA_MAX_MEMORY_MB / LAMBDA_MB_PER_VCPU
        raise InvalidSpec(
            field,
            resources.describe(),
            f"the lambda executor gives at most {LAMBDA_MAX_MEMORY_MB} MB and {most_cpu:.2f} vCPU "
            f"(Lambda gives 1 vCPU per {LAMBDA_MB_PER_VCPU} MB): ask for less or use executor='fargate'",
        )
    return needed


def check_task_resources(
    task_name: str, resources: Resources, executor: str, timeout_seconds: float | None, kind: str
) -> None:
    """InvalidSpec, naming the task's field, for what its executor (Fargate or Lambda) cannot give it."""
    if executor != "lambda":
        fargate_size(resources, field=f"tasks.{task_name}.resources")
        return
    if kind == "notebook":
        raise InvalidSpec(
            f"tasks.{task_name}.executor",
            "lambda",
            "a notebook task needs a container to run its kernel in: use executor='fargate'",
        )
    if timeout_seconds is not None and timeout_seconds > LAMBDA_MAX_TIMEOUT_SECONDS:
        raise InvalidSpec(
            f"tasks.{task_name}.timeout_seconds",
            timeout_seconds,
            f"the lambda executor stops a task after {LAMBDA_MAX_TIMEOUT_SECONDS} s (Lambda's 15-minute limit): "
            "give at most 900 or use executor='fargate'",
        )
    lambda_memory(resources, field=f"tasks.{task_name}.resources")


# -- prices -------------------------------------------------------------------------------------------------------
# On-demand prices in us-east-1 (US East, N. Virginia), USD, taken on 2026-12-01. AWS publishes them on
# https://aws.amazon.com/fargate/pricing/ and https://aws.amazon.com/lambda/pricing/, but those pages render their
# rate tables client-side, so the figures were read from copies of those tables: vantage.sh/blog/fargate-pricing
# (Linux/x86 and Linux/ARM Fargate rates, us-east-1) and AWS's own ECS pricing example ("$0.000011244 per vCPU
# second" = $0.04048 per vCPU-hour); Lambda's first-tier duration rates and $0.20 per million requests as
# transcribed from aws.amazon.com/lambda/pricing by several sources. They were not re-checked on AWS's live pages.
# Fargate bills from image pull to task end per second with a one-minute minimum; Lambda per millisecond.
# Not included: Fargate storage beyond the free 20 GB, Lambda's free tier and volume tiers, Savings Plans, Spot.
PRICES_REGION = "us-east-1"
PRICES_TAKEN = "2026-12-01"
PRICES_SOURCES = ("https://aws.amazon.com/fargate/pricing/", "https://aws.amazon.com/lambda/pricing/")
FARGATE_PRICES: dict[str, tuple[float, float]] = {  # arch -> (per vCPU-hour, per GB-hour)
    "x86": (0.04048, 0.004445),
    "arm": (0.03238, 0.00356),
}
FARGATE_MINIMUM_SECONDS = 60
LAMBDA_GB_SECOND_PRICES: dict[str, float] = {"x86": 0.0000166667, "arm": 0.0000133334}
LAMBDA_REQUEST_PRICE = 0.20 / 1_000_000


# What a notebook job runs with: the runner's task definition as the stack deploys it (infra's Runner takes its
# cpu and memory from here); a workflow task is sized by its own resources instead.
NOTEBOOK_RUNNER = Resources(cpu=1, memory_mb=4096)
STACK_ARCH = "arm"  # the stack's runner task definition and its Lambda functions run on ARM64: priced as such


def _hourly(cpu: float, memory_mb: int, rates: tuple[float, float]) -> float:
    per_vcpu_hour, per_gb_hour = rates
    return cpu * per_vcpu_hour + memory_mb / 1024 * per_gb_hour


def estimate_cost(resources: Resources, executor: str, seconds: float, arch: str = "x86") -> float:
    """USD for one run of `seconds` on `executor` ("fargate" or "lambda"), at the size it would be given."""
    if arch not in FARGATE_PRICES:
        raise InvalidSpec("arch", arch, f"use one of {', '.join(FARGATE_PRICES)}")
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
        raise InvalidSpec("seconds", seconds, "give the run's duration as a number of seconds >= 0")
    if executor == "lambda":
        billed_ms = math.ceil(seconds * 1000 - 1e-6)
        gb_seconds = lambda_memory(resources) / 1024 * billed_ms / 1000
        return gb_seconds * LAMBDA_GB_SECOND_PRICES[arch] + LAMBDA_REQUEST_PRICE
    if executor != "fargate":
        raise InvalidSpec("executor", executor, "use 'fargate' or 'lambda'")
    granted = fargate_size(resources)
    billed = max(FARGATE_MINIMUM_SECONDS, math.ceil(seconds - 1e-6))
    return billed / 3600 * _hourly(granted.cpu, granted.memory_mb, FARGATE_PRICES[arch])


def lambda_resources(requested: Resources) -> Resources:
    """What a Lambda task runs with: the memory lambda_memory gives it, and the CPU Lambda gives that memory."""
    memory = lambda_memory(requested)
    return Resources(cpu=round(memory / LAMBDA_MB_PER_VCPU, 2), memory_mb=memory)
