"""Job definitions: what to run, how, and when. Versioned; active or paused. Jupyter Scheduler's field names."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from shiftwork.models.base import Model
from shiftwork.models.job import START_TIMEOUT_SECONDS, CreateJob, JobSpec, ListQuery
from shiftwork.models.limits import (
    MAX_RUNNING_JOBS,
    BackoffSeconds,
    Flag,
    GraceSeconds,
    KernelName,
    Name,
    Retries,
    Schedule,
    StartTimeoutSeconds,
    Tags,
    TimeoutSeconds,
    Timezone,
    check_s3_key,
)
from shiftwork.models.parameters import check_parameters

RunningJobs = Annotated[int, Field(strict=True, ge=1, le=MAX_RUNNING_JOBS)]


def _watch_prefix(value: str | None) -> str | None:
    if value is not None:
        check_s3_key("watch_prefix", value.rstrip("/") or "/", "")
    return value


WatchPrefix = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_watch_prefix)]


class CoalescePolicy(StrEnum):
    """Which fires run when several became due at once (after downtime): APScheduler's coalesce."""

    LATEST = "latest"
    EARLIEST = "earliest"
    ALL = "all"


class ConflictPolicy(StrEnum):
    """What creating a definition with an id that exists does: APScheduler's conflict policy."""

    REPLACE = "replace"
    KEEP = "keep"
    ERROR = "error"


class RunAfterCondition(StrEnum):
    """Which end of the upstream definition's job runs a run-after definition (Datatailr's spelling)."""

    SUCCESS = "on success"  # the job COMPLETED
    FAILURE = "on failure"  # the job FAILED, its last attempt (after retries)
    COMPLETION = "on completion"  # either; a STOPPED or SKIPPED job runs nothing


def run_after_condition(value: Any) -> Any:
    """ "success", "on success", "On_Success"... as the RunAfterCondition it names; other values unchanged."""
    if not isinstance(value, str):
        return value
    word = value.strip().lower().replace("_", " ").removeprefix("on ").strip()
    return f"on {word}" if f"on {word}" in set(RunAfterCondition) else value


Condition = Annotated[RunAfterCondition, BeforeValidator(run_after_condition)]
# An upstream definition's id or name; resolved to its id when the definition is stored
UpstreamRef = Annotated[str, Field(min_length=1, max_length=256)]


class Notify(StrEnum):
    """When a definition's jobs publish to the notifications topic."""

    FAILURE = "failure"
    SUCCESS = "success"


def schedule_text(value: Any) -> tuple[Any, str | None]:
    """A Schedule (Datatailr's friendly fields) or a trigger object as the schedule text definitions store, with
    its time zone; any other value unchanged. Duck-typed: models do not import shiftwork.schedules."""
    if hasattr(value, "run_after") and value.run_after() is not None:
        return None, None  # it runs after a job, not at times: see schedule_fields
    if hasattr(value, "get_cron_string"):
        return value.get_cron_string(), getattr(value, "timezone", None)
    if hasattr(value, "to_dict") and hasattr(value, "fire_times"):
        spec = {key: item for key, item in value.to_dict().items() if item is not None}
        return json.dumps(spec), spec.get("timezone")
    return value, None


class _TakesScheduleObjects:
    """`schedule=` takes a Schedule or a trigger as well as text; its time zone applies unless one is given."""

    @model_validator(mode="before")
    @classmethod
    def _schedule_object(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "schedule" not in data:
            return data
        return {**data, **schedule_fields(data["schedule"], data)}


def schedule_fields(value: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The fields a `schedule=` value sets: the schedule text and its time zone, or (a Schedule with
    run_after_job_name/uuid) the run-after fields instead, the schedule left unset."""
    after = value.run_after() if hasattr(value, "run_after") else None
    if after is not None:
        upstream, condition = after
        return {"schedule": None, "run_after": upstream, "run_after_condition": condition}
    text, timezone = schedule_text(value)
    fields: dict[str, Any] = {"schedule": text}
    if timezone and not given.get("timezone"):
        fields["timezone"] = timezone
    return fields


class DefinitionSpec(_TakesScheduleObjects, JobSpec):
    """A job's settings plus when it runs and with which policies, whichever way the notebook is sent."""

    schedule: Schedule | None = None  # None: runs only on demand or when a file lands under watch_prefix
    watch_prefix: WatchPrefix | None = None  # an S3 prefix: a file uploaded under it runs the definition
    timezone: Timezone = "UTC"
    active: Flag = True
    max_running_jobs: RunningJobs = 1
    misfire_grace_time: GraceSeconds | None = None  # seconds; None: no limit
    coalesce: CoalescePolicy = CoalescePolicy.LATEST
    conflict_policy: ConflictPolicy = ConflictPolicy.ERROR
    max_retries: Retries = 0
    retry_backoff_seconds: BackoffSeconds = 60  # doubles each attempt, at most 900 s
    notify: list[Notify] = Field(default_factory=list)
    # run after another definition's job ends (never with a schedule): its id or name, and which ends count
    run_after: UpstreamRef | None = None
    run_after_condition: Condition = RunAfterCondition.SUCCESS


class CreateJobDefinition(DefinitionSpec, CreateJob):
    """A definition of a notebook on the caller's disk."""


class DefinitionChanges(_TakesScheduleObjects, Model):
    """Only the fields given change; every update makes a new version."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    parameters: dict[str, Any] | None = None
    output_formats: list[str] | None = Field(default=None, max_length=20)
    kernel_name: KernelName | None = None
    timeout_seconds: TimeoutSeconds | None = None
    execution_timeout_seconds: TimeoutSeconds | None = None
    start_timeout_seconds: StartTimeoutSeconds | None = None
    report_mode: Flag | None = None
    schedule: Schedule | None = None
    timezone: Timezone | None = None
    watch_prefix: WatchPrefix | None = None
    max_running_jobs: RunningJobs | None = None
    misfire_grace_time: GraceSeconds | None = None
    coalesce: CoalescePolicy | None = None
    tags: Tags | None = None
    run_after: str | None = Field(default=None, max_length=256)  # an id or name; "" stops running after a job
    run_after_condition: Condition | None = None

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_parameters(value)

    @field_validator("output_formats")
    @classmethod
    def _formats(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return CreateJob(input_uri="x.ipynb", output_formats=value).output_formats


class UpdateJobDefinition(DefinitionChanges):
    """Changes, and perhaps a new snapshot of a notebook on the caller's disk."""

    input_uri: str | None = None


class DescribeJobDefinition(Model):
    job_definition_id: str
    name: str
    version: int
    input_filename: str
    input_prefix: str  # S3 prefix of this version's notebook snapshot
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_formats: list[str] = Field(default_factory=lambda: ["ipynb"])
    kernel_name: str = "python3"
    timeout_seconds: float | None = None
    execution_timeout_seconds: float | None = None
    start_timeout_seconds: float = START_TIMEOUT_SECONDS
    report_mode: bool = False
    package_input_folder: bool = False
    schedule: str | None = None
    timezone: str = "UTC"
    trigger: dict[str, Any] = Field(default_factory=dict)  # the parsed trigger's JSON form; {} without a schedule
    watch_prefix: str | None = None
    compiled: list[dict[str, Any]] = Field(default_factory=list)  # the EventBridge Scheduler schedules
    active: bool = True
    max_running_jobs: int = 1
    misfire_grace_time: float | None = None
    coalesce: CoalescePolicy = CoalescePolicy.LATEST
    tags: list[str] = Field(default_factory=list)
    max_retries: int = 0
    retry_backoff_seconds: float = 60
    notify: list[Notify] = Field(default_factory=list)
    create_time: int
    update_time: int
    active_since: int  # ms: fires before this (creation or resume) are not owed
    kind: Literal["notebook", "workflow"] = "notebook"
    workflow: dict[str, Any] | None = None  # a workflow definition's spec (models.workflow.WorkflowSpec's JSON)
    run_after: str | None = None  # the upstream definition's id: its jobs' ends run this one (no schedule then)
    run_after_condition: RunAfterCondition | None = None  # which ends: on success, on failure, on completion


# What a definition list can be ordered by; names and schedules sort as text, paused (active false) first
# when ascending by active. Definitions without a schedule come last in either direction.
DEFINITION_SORT_FIELDS = (
    "create_time",
    "update_time",
    "name",
    "schedule",
    "active",
    "version",
    "job_definition_id",
    "input_filename",
)


class ListJobDefinitionsQuery(ListQuery):
    """Which definitions, in which order, one page: Jupyter Scheduler's ListJobDefinitionsQuery.

    Filters combine (AND): name is a prefix (case-sensitive), schedule matches the schedule text exactly,
    paused true keeps paused definitions and false active ones, tags keeps definitions carrying every tag
    given, create_time keeps those created at or after it (ms).
    """

    SORT_FIELDS = DEFINITION_SORT_FIELDS

    name: str | None = None
    schedule: str | None = None
    paused: bool | None = None
    create_time: int | None = None


class ListJobDefinitionsResponse(Model):
    job_definitions: list[DescribeJobDefinition]
    next_token: str | None = None


class SchedulePreview(Model):
    """A schedule's next fires (aware, in its time zone) from `start`, and the schedule in words."""

    schedule: str
    timezone: str
    in_words: str
    start: datetime
    fires: list[datetime]


class ScheduleFired(Model):
    """What EventBridge Scheduler sends the dispatcher when a definition's schedule fires."""

    model_config = ConfigDict(extra="ignore")

    job_definition_id: str
    scheduled_time: str  # ISO 8601; EventBridge fills <aws.scheduler.scheduled-time>
    execution_id: str | None = None
