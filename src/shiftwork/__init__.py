"""Shiftwork: run Jupyter notebooks and Python workflows on a schedule, serverless on AWS.

Public API only. Importing this package has no side effects and loads nothing else: each name below is imported
from its module the first time it is used (`from shiftwork import Schedule` loads the schedules, not boto3).

    from shiftwork import CreateJobDefinition, Schedule, connect

    with connect() as sw:  # $SHIFTWORK_API_URL, the running `shiftwork up`, or a stack for this block
        request = CreateJobDefinition(input_uri="report.ipynb", schedule=Schedule(at_hours=[9]))
        definition = sw.definitions.create(request)
        job = sw.wait_job(sw.definitions.run(definition.job_definition_id).job_id)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # reaching Shiftwork
    "connect": "shiftwork.connection",
    "Client": "shiftwork.client",
    "Service": "shiftwork.api.service",
    # when: Datatailr's friendly Schedule and APScheduler's triggers
    "Schedule": "shiftwork.schedules",
    "Trigger": "shiftwork.schedules",
    "CronTrigger": "shiftwork.schedules",
    "IntervalTrigger": "shiftwork.schedules",
    "DateTrigger": "shiftwork.schedules",
    "CalendarIntervalTrigger": "shiftwork.schedules",
    "AndTrigger": "shiftwork.schedules",
    "OrTrigger": "shiftwork.schedules",
    "parse_trigger": "shiftwork.schedules",
    # workflows: the DAG comes from the code
    "workflow": "shiftwork.workflows",
    "task": "shiftwork.workflows",
    "notebook_task": "shiftwork.workflows",
    "task_result": "shiftwork.workflows.results",
    "Resources": "shiftwork.models.resources",
    # requests and responses
    "CreateJob": "shiftwork.models",
    "DescribeJob": "shiftwork.models",
    "JobFile": "shiftwork.models",
    "ListJobsQuery": "shiftwork.models",
    "ListJobsResponse": "shiftwork.models",
    "Status": "shiftwork.models",
    "CreateJobDefinition": "shiftwork.models",
    "UpdateJobDefinition": "shiftwork.models",
    "DescribeJobDefinition": "shiftwork.models",
    "ListJobDefinitionsQuery": "shiftwork.models",
    "ListJobDefinitionsResponse": "shiftwork.models",
    "CoalescePolicy": "shiftwork.models",
    "ConflictPolicy": "shiftwork.models",
    # errors
    "ShiftworkError": "shiftwork.errors",
    "InvalidSpec": "shiftwork.errors",
    "NotFound": "shiftwork.errors",
    "Conflict": "shiftwork.errors",
    "LaunchError": "shiftwork.errors",
    "StackUnavailable": "shiftwork.errors",
    "WaitTimeout": "shiftwork.errors",
    "ApiError": "shiftwork.client",
}

__all__ = [  # the names of _EXPORTS, written out for linters and type checkers
    "AndTrigger",
    "ApiError",
    "CalendarIntervalTrigger",
    "Client",
    "CoalescePolicy",
    "Conflict",
    "ConflictPolicy",
    "CreateJob",
    "CreateJobDefinition",
    "CronTrigger",
    "DateTrigger",
    "DescribeJob",
    "DescribeJobDefinition",
    "IntervalTrigger",
    "InvalidSpec",
    "JobFile",
    "LaunchError",
    "ListJobDefinitionsQuery",
    "ListJobDefinitionsResponse",
    "ListJobsQuery",
    "ListJobsResponse",
    "NotFound",
    "OrTrigger",
    "Resources",
    "Schedule",
    "Service",
    "ShiftworkError",
    "StackUnavailable",
    "Status",
    "Trigger",
    "UpdateJobDefinition",
    "WaitTimeout",
    "__version__",
    "connect",
    "notebook_task",
    "parse_trigger",
    "task",
    "task_result",
    "workflow",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shiftwork' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # what type checkers and editors see
    from shiftwork.api.service import Service
    from shiftwork.client import ApiError, Client
    from shiftwork.connection import connect
    from shiftwork.errors import (
        Conflict,
        InvalidSpec,
        LaunchError,
        NotFound,
        ShiftworkError,
        StackUnavailable,
        WaitTimeout,
    )
    from shiftwork.models import (
        CoalescePolicy,
        ConflictPolicy,
        CreateJob,
        CreateJobDefinition,
        DescribeJob,
        DescribeJobDefinition,
        JobFile,
        ListJobDefinitionsQuery,
        ListJobDefinitionsResponse,
        ListJobsQuery,
        ListJobsResponse,
        Status,
        UpdateJobDefinition,
    )
    from shiftwork.models.resources import Resources
    from shiftwork.schedules import (
        AndTrigger,
        CalendarIntervalTrigger,
        CronTrigger,
        DateTrigger,
        IntervalTrigger,
        OrTrigger,
        Schedule,
        Trigger,
        parse_trigger,
    )
    from shiftwork.workflows import notebook_task, task, workflow
    from shiftwork.workflows.results import task_result
