"""The Launcher interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shiftwork.models import DescribeJob


@dataclass(frozen=True)
class LaunchedTask:
    task_arn: str
    log_stream: str


class Launcher(ABC):
    """Starts and stops the container (or process) that runs one job."""

    @abstractmethod
    def launch(self, job: DescribeJob) -> LaunchedTask:
        """Start the runner for `job`; idempotent per job id."""

    @abstractmethod
    def stop(self, task_arn: str, reason: str) -> None:
        """Ask the runner to stop: SIGTERM, then SIGKILL after the stop timeout."""
