"""Pydantic DTOs for everything that crosses a boundary (CLI, API, events, the store's callers)."""

from __future__ import annotations

from shiftwork.models.formats import OUTPUT_FORMATS, OutputFormat
from shiftwork.models.job import (
    TERMINAL_STATUSES,
    CreateJob,
    DescribeJob,
    JobFile,
    ListJobsQuery,
    ListJobsResponse,
    Status,
)
from shiftwork.models.parameters import parse_parameter, parse_parameters

__all__ = [
    "OUTPUT_FORMATS",
    "TERMINAL_STATUSES",
    "CreateJob",
    "DescribeJob",
    "JobFile",
    "ListJobsQuery",
    "ListJobsResponse",
    "OutputFormat",
    "Status",
    "parse_parameter",
    "parse_parameters",
]
