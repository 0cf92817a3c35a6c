"""The Launcher interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shiftwork.models import DescribeJob
    from shiftwork.models.resources import Resources
    from shiftwork.models.workflow import DescribeTask


@dataclass(frozen=True)
class LaunchedTask:
    task_arn: str  # an ECS task ARN; a workflow task on the Lambda executor: lambda:<request id>
    log_stream: str  # "" where it is not known at launch (a Lambda invocation's)
    resources: Resources | None = None  # a workflow task's size as granted (rounded up to what the executor has)


class Launcher(ABC):
    """Starts and stops the container (or process) that runs one job."""

    @abstractmethod
    def launch(self, job: DescribeJob) -> LaunchedTask:
        """Start the runner for `job`.

        The dispatcher launches once per job (it records the task on the job). As a second guard, ECS gets the
        job id as clientToken, so a retried request starts no second task; the LocalLauncher dedupes by job id.
        """

    def launch_task(self, job: DescribeJob, task: DescribeTask) -> LaunchedTask:
        """Start the runner of one task of a workflow run (deduped by run, task and attempt)."""
        raise NotImplementedError(f"{type(self).__name__} does not run workflow tasks")

    @abstractmethod
    def stop(self, task_arn: str, reason: str) -> None:
        """Ask the runner to stop: SIGTERM, then SIGKILL after the stop timeout."""
