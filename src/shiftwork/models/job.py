"""Jobs: one execution of a notebook. Field names follow Jupyter Scheduler's models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator

from shiftwork.errors import InvalidSpec
from shiftwork.models.base import Model
from shiftwork.models.formats import OUTPUT_FORMATS
from shiftwork.models.limits import (
    DefinitionId,
    Flag,
    KernelName,
    Name,
    StartTimeoutSeconds,
    Tags,
    TimeoutSeconds,
    Token,
)
from shiftwork.models.parameters import check_parameters


class Status(StrEnum):
    CREATED = "CREATED"
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    SKIPPED = "SKIPPED"


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.STOPPED, Status.SKIPPED})


START_TIMEOUT_SECONDS = 60  # papermill's default wait for a kernel to start


class JobFile(Model):
    """One file a job produced: an output format or a side-effect file."""

    display_name: str
    file_format: str
    file_path: str  # the S3 key under the stack's bucket


class JobSpec(Model):
    """How to run a notebook, whichever way it is sent. Validated here so that bad input is refused before anything
    is created."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_formats: list[str] = Field(default_factory=lambda: ["ipynb"], max_length=20)
    kernel_name: KernelName | None = None  # None: the notebook's own kernelspec, else python3 (papermill's rule)
    timeout_seconds: TimeoutSeconds | None = None
    execution_timeout_seconds: TimeoutSeconds | None = None  # per cell, papermill's --execution-timeout
    start_timeout_seconds: StartTimeoutSeconds = START_TIMEOUT_SECONDS  # for the kernel to start, papermill's
    report_mode: Flag = False  # hide code cells' input in the outputs, papermill's --report-mode
    job_definition_id: DefinitionId | None = None
    idempotency_token: Token | None = None
    tags: Tags = Field(default_factory=list)

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_parameters(value)

    @field_validator("output_formats")
    @classmethod
    def _formats_are_known(cls, value: list[str]) -> list[str]:
        known = ", ".join(OUTPUT_FORMATS)
        seen: list[str] = []
        for fmt in value:
            if fmt not in OUTPUT_FORMATS:
                raise ValueError(f"output format {fmt!r} is unknown: use one of {known}")
            if fmt not in seen:
                seen.append(fmt)
        if "ipynb" not in seen:  # the output notebook is always kept
            seen.insert(0, "ipynb")
        return seen


class CreateJob(JobSpec):
    """A job from a notebook on the caller's disk."""

    input_uri: str  # local path of the notebook the caller submits
    package_input_folder: bool = False  # upload the notebook's folder with it

    def run_settings(self) -> dict[str, Any]:
        """How to run it, as a job or definition record stores it (one list for both, written here once)."""
        return {name: getattr(self, name) for name in RUN_SETTINGS}


# What a request's job or definition keeps as it was asked: the rest (name, kernel, ids) is resolved on the way
RUN_SETTINGS = (
    "parameters",
    "output_formats",
    "timeout_seconds",
    "execution_timeout_seconds",
    "start_timeout_seconds",
    "report_mode",
    "package_input_folder",
    "tags",
)


class DescribeJob(Model):
    """A job as every front end shows it (`job show --json`, the REST API)."""

    job_id: str
    name: str
    status: Status
    status_message: str | None = None
    input_filename: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_formats: list[str] = Field(default_factory=list)
    kernel_name: str | None = None  # resolved at submit; None: the notebook's, resolved when it starts (S3 inbox)
    timeout_seconds: float | None = None
    execution_timeout_seconds: float | None = None
    start_timeout_seconds: float = START_TIMEOUT_SECONDS
    report_mode: bool = False
    error_traceback: str | None = None  # a failure's full traceback (its tail, colour codes stripped)
    package_input_folder: bool = False
    job_files: list[JobFile] = Field(default_factory=list)
    create_time: int  # milliseconds since the epoch, as Jupyter Scheduler
    update_time: int
    start_time: int | None = None
    end_time: int | None = None
    job_definition_id: str | None = None
    job_definition_version: int | None = None
    scheduled_time: str | None = None  # ISO 8601, for a job a schedule fired
    idempotency_token: str | None = None
    tags: list[str] = Field(default_factory=list)
    input_prefix: str | None = None  # where the input snapshot is [default: jobs/<id>/input/]
    attempt: int = 1
    retry_of: str | None = None  # the first attempt's job id
    triggered_by: str | None = None  # run-after: the upstream definition's job whose end started this one
    notified: bool = False
    task_arn: str | None = None
    log_stream: str | None = None
    output_prefix: str  # S3 key prefix under which the job's files live
    kind: Literal["notebook", "workflow"] = "notebook"  # a workflow run's tasks: Service.run_tasks(job_id)
    tasks_open: int | None = None  # a run's tasks not yet settled
    tasks_failed: int | None = None
    original_run_id: str | None = None  # a rerun: the run it reruns
    partial_rerun: bool | None = None  # a rerun reusing the original's completed tasks

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class SortDirection(StrEnum):
    ASC = "asc"
    DESC = "desc"


class SortField(Model):
    """One key of a list's order, as Jupyter Scheduler's SortField."""

    model_config = ConfigDict(frozen=True)

    name: str
    direction: SortDirection = SortDirection.ASC


DEFAULT_SORT = (SortField(name="create_time", direction=SortDirection.DESC),)
SORT_SYNTAX = "name, -name (descending), name:desc or desc(name), comma-separated"

# What a job list can be ordered by; timestamps are ms, status and names sort as text. Jobs missing a value
# (not started, not ended, no definition) come last in either direction.
JOB_SORT_FIELDS = (
    "create_time",
    "update_time",
    "start_time",
    "end_time",
    "name",
    "status",
    "job_id",
    "job_definition_id",
    "input_filename",
)


def check_sort_by(sort_by: Sequence[SortField], allowed: Sequence[str]) -> None:
    """Raise InvalidSpec unless every field is one of `allowed`, each at most once."""
    seen: set[str] = set()
    for field in sort_by:
        if field.name not in allowed:
            raise InvalidSpec("sort_by", field.name, f"sort by one of {', '.join(allowed)}")
        if field.name in seen:
            raise InvalidSpec("sort_by", field.name, "name each sort field once")
        seen.add(field.name)


def parse_sort_by(text: str | Sequence[str] | None, allowed: Sequence[str]) -> list[SortField]:
    """Sort fields from a query string's value or repeated values, e.g. `-update_time,name`; none: newest first.

    Each comma-separated term is `name` (ascending, as Jupyter Scheduler), `-name`, `name:asc|desc` or
    Jupyter Scheduler's `asc(name)|desc(name)`.
    """
    terms = parse_csv(text)
    if not terms:
        return list(DEFAULT_SORT)
    fields = []
    for term in terms:
        name, direction = term, SortDirection.ASC
        if term.startswith("-"):
            name, direction = term[1:], SortDirection.DESC
        elif ":" in term:
            name, _, given = term.partition(":")
            direction = _direction(given, term)
        elif term.endswith(")") and "(" in term:
            given, _, name = term[:-1].partition("(")
            direction = _direction(given, term)
        fields.append(SortField(name=name.strip(), direction=direction))
    check_sort_by(fields, allowed)
    return fields


def _direction(given: str, term: str) -> SortDirection:
    try:
        return SortDirection(given.strip().lower())
    except ValueError:
        raise InvalidSpec("sort_by", term, f"the direction is asc or desc; write {SORT_SYNTAX}") from None


def parse_time_ms(field: str, text: str | None) -> int | None:
    """A query string's time: milliseconds since the epoch, or ISO 8601 (UTC unless it has an offset)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.isdigit() and len(text) <= 15:  # ms up to the year 33658; longer overflows DynamoDB's numbers
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidSpec(
            field, text, "give milliseconds since the epoch or an ISO 8601 time such as 2026-03-27T09:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_csv(text: str | Sequence[str] | None) -> list[str]:
    """`a,b` (a query string's value) or ["a", "b,c"] (its repeated values) as ["a", "b", "c"]; blanks dropped."""
    values = [text] if isinstance(text, str) else list(text or [])
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class ListQuery(Model):
    """A page of a list in an order: what every list query has. SORT_FIELDS names what it can be sorted by."""

    SORT_FIELDS: ClassVar[tuple[str, ...]] = ()

    tags: list[str] = Field(default_factory=list)
    sort_by: list[SortField] = Field(default_factory=lambda: list(DEFAULT_SORT))
    max_items: int = Field(default=100, ge=1, le=1000)
    next_token: str | None = None

    @field_validator("sort_by")
    @classmethod
    def _sortable(cls, value: list[SortField]) -> list[SortField]:
        check_sort_by(value, cls.SORT_FIELDS)
        return value or list(DEFAULT_SORT)


class ListJobsQuery(ListQuery):
    """Which jobs, in which order, one page: Jupyter Scheduler's ListJobsQuery.

    Filters combine (AND): status and job_definition_id match exactly, name is a prefix (case-sensitive),
    start_time keeps jobs started at or after it (ms) and start_time_before those started before it, tags keeps
    jobs that carry every tag given, kind keeps notebook jobs or workflow runs, exclude_status drops jobs in any
    of these statuses (a dashboard hides SKIPPED runs this way, in the query, so a page is never short).
    """

    SORT_FIELDS = JOB_SORT_FIELDS

    status: Status | None = None
    job_definition_id: str | None = None
    name: str | None = None
    start_time: int | None = None
    start_time_before: int | None = None
    kind: Literal["notebook", "workflow"] | None = None
    exclude_status: list[Status] = Field(default_factory=list, max_length=len(Status))


class ListJobsResponse(Model):
    jobs: list[DescribeJob]
    next_token: str | None = None
