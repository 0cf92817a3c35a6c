"""The `shiftwork` command line: typer commands that call shiftwork.api.service."""

from __future__ import annotations

from shiftwork.cli.app import app, main

__all__ = ["app", "main"]
