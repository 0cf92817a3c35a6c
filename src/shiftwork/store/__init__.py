"""DynamoDB through pynamodb: tables and the repository functions over them. pynamodb never leaves here."""

from __future__ import annotations

from shiftwork.store import definitions, files, jobs
from shiftwork.store.tables import create_tables

__all__ = ["create_tables", "definitions", "files", "jobs"]
