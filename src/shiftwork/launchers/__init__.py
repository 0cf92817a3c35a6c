"""Launchers start a job's runner: FargateLauncher on AWS (ecs.run_task), LocalLauncher on one machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shiftwork.launchers.base import LaunchedTask, Launcher
from shiftwork.launchers.fargate import FargateLauncher

if TYPE_CHECKING:
    from shiftwork.config import Settings

_process_launcher: Launcher | None = None


def use_launcher(launcher: Launcher | None) -> None:
    """Make `launcher` the one this process launches with (the embedded stack registers its LocalLauncher)."""
    global _process_launcher
    _process_launcher = launcher


def default_launcher(settings: Settings | None = None) -> Launcher:
    """The process's launcher: the embedded stack's, else Fargate (in a Lambda) with `settings`."""
    return _process_launcher or FargateLauncher(settings)


__all__ = ["FargateLauncher", "LaunchedTask", "Launcher", "default_launcher", "use_launcher"]
