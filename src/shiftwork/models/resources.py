"""What a workflow task asks for: vCPUs and memory, as a user writes them ("512m", "2g", 0.5)."""

from __future__ import annotations

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


class Resources(Model):
    """vCPUs and memory for one task's container; rounded up to a size Fargate offers when it launches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
        memory = f"{self.memory_mb / 1024:g} GB" if self.memory_mb >= 1024 else f"{self.memory_mb} MB"
        return f"{self.cpu:g} vCPU, {memory}"


LAMBDA_MB_PER_VCPU = 1769  # Lambda gives a function one vCPU's worth of CPU per 1,769 MB of memory


def lambda_resources(requested: Resources) -> Resources:
    """What a Lambda task runs with: memory for the CPU asked (Lambda's proportion) or the memory asked, if more."""
    memory = max(128, requested.memory_mb, int(requested.cpu * LAMBDA_MB_PER_VCPU))
    memory = min(memory, 10240)
    return Resources(cpu=round(memory / LAMBDA_MB_PER_VCPU, 2), memory_mb=memory)
