"""Launchers start a job's runner: FargateLauncher on AWS (ecs.run_task), LocalLauncher on one machine."""

from __future__ import annotations

from shiftwork.launchers.base import LaunchedTask, Launcher
from shiftwork.launchers.fargate import FargateLauncher

__all__ = ["FargateLauncher", "LaunchedTask", "Launcher"]
