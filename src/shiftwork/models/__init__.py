"""Pydantic DTOs for everything that crosses a boundary (CLI, API, events, the store's callers)."""

from __future__ import annotations

from shiftwork.models.definition import (
    CoalescePolicy,
    ConflictPolicy,
    CreateJobDefinition,
    DescribeJobDefinition,
    ListJobDefinitionsResponse,
    ScheduleFired,
    UpdateJobDefinition,
)
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
    "CoalescePolicy",
    "ConflictPolicy",
    "CreateJob",
    "CreateJobDefinition",
    "DescribeJob",
    "DescribeJobDefinition",
    "JobFile",
    "ListJobDefinitionsResponse",
    "ListJobsQuery",
    "ListJobsResponse",
    "OutputFormat",
    "ScheduleFired",
    "Status",
    "UpdateJobDefinition",
    "parse_parameter",
    "parse_parameters",
]
