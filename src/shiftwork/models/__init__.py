"""Pydantic DTOs for everything that crosses a boundary (CLI, API, events, the store's callers)."""

from __future__ import annotations

from shiftwork.models.definition import (
    CoalescePolicy,
    ConflictPolicy,
    CreateJobDefinition,
    DefinitionChanges,
    DefinitionSpec,
    DescribeJobDefinition,
    ListJobDefinitionsQuery,
    ListJobDefinitionsResponse,
    RunAfterCondition,
    ScheduleFired,
    SchedulePreview,
    UpdateJobDefinition,
)
from shiftwork.models.formats import OUTPUT_FORMATS, OutputFormat
from shiftwork.models.job import (
    TERMINAL_STATUSES,
    CreateJob,
    DescribeJob,
    JobFile,
    JobSpec,
    ListJobsQuery,
    ListJobsResponse,
    SortDirection,
    SortField,
    Status,
    parse_sort_by,
    parse_time_ms,
)
from shiftwork.models.parameters import parse_parameter, parse_parameters

__all__ = [
    "OUTPUT_FORMATS",
    "TERMINAL_STATUSES",
    "CoalescePolicy",
    "ConflictPolicy",
    "CreateJob",
    "CreateJobDefinition",
    "DefinitionChanges",
    "DefinitionSpec",
    "DescribeJob",
    "DescribeJobDefinition",
    "JobFile",
    "JobSpec",
    "ListJobDefinitionsQuery",
    "ListJobDefinitionsResponse",
    "ListJobsQuery",
    "ListJobsResponse",
    "OutputFormat",
    "RunAfterCondition",
    "ScheduleFired",
    "SchedulePreview",
    "SortDirection",
    "SortField",
    "Status",
    "UpdateJobDefinition",
    "parse_parameter",
    "parse_parameters",
    "parse_sort_by",
    "parse_time_ms",
]
