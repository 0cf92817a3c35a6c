"""Launchers start a job's runner: FargateLauncher on AWS (ecs.run_task), LocalLauncher on one machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shiftwork.launchers.base import LaunchedTask, Launcher
from shiftwork.launchers.fargate import FargateLauncher

if TYPE_CHECKING:
    from shiftwork.config import Settings

_process_launcher: Launcher | None = None
_process_task_executor: Launcher | None = None


def use_launcher(launcher: Launcher | None) -> None:
    """Make `launcher` the one this process launches with (the embedded stack registers its LocalLauncher)."""
    global _process_launcher
    _process_launcher = launcher


def default_launcher(settings: Settings | None = None) -> Launcher:
    """The process's launcher: the embedded stack's, else Fargate (in a Lambda) with `settings`."""
    return _process_launcher or FargateLauncher(settings)


def use_task_executor(executor: Launcher | None) -> None:
    """Make `executor` the one this process runs Lambda-executor tasks with (the embedded stack's warm workers)."""
    global _process_task_executor
    _process_task_executor = executor


def task_executor(settings: Settings | None = None) -> Launcher:
    """The process's executor of light (Lambda) workflow tasks: the embedded stack's, else the task Lambda."""
    if _process_task_executor is not None:
        return _process_task_executor
    from shiftwork.launchers.lambda_task import LambdaTaskLauncher

    return LambdaTaskLauncher(settings)


__all__ = [
    "FargateLauncher",
    "LaunchedTask",
    "Launcher",
    "default_launcher",
    "task_executor",
    "use_launcher",
    "use_task_executor",
]
