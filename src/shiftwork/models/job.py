"""Jobs: one execution of a notebook. Field names follow Jupyter Scheduler's models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shiftwork.models.formats import OUTPUT_FORMATS
from shiftwork.models.parameters import check_parameter_name


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


class JobFile(BaseModel):
    """One file a job produced: an output format or a side-effect file."""

    display_name: str
    file_format: str
    file_path: str  # the S3 key under the stack's bucket


class CreateJob(BaseModel):
    """What to run. Validated here so that bad input is refused before anything is created."""

    model_config = ConfigDict(extra="forbid")

    input_uri: str  # local path of the notebook the caller submits
    name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_formats: list[str] = Field(default_factory=lambda: ["ipynb"])
    kernel_name: str = "python3"
    timeout_seconds: float | None = Field(default=None, gt=0)
    package_input_folder: bool = False
    job_definition_id: str | None = None
    idempotency_token: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            check_parameter_name(name)
        return value

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


class DescribeJob(BaseModel):
    """A job as every front end shows it (`job show --json`, the REST API)."""

    job_id: str
    name: str
    status: Status
    status_message: str | None = None
    input_filename: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_formats: list[str] = Field(default_factory=list)
    kernel_name: str = "python3"
    timeout_seconds: float | None = None
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
    notified: bool = False
    task_arn: str | None = None
    log_stream: str | None = None
    output_prefix: str  # S3 key prefix under which the job's files live

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class ListJobsQuery(BaseModel):
    status: Status | None = None
    job_definition_id: str | None = None
    max_items: int = Field(default=100, ge=1, le=1000)
    next_token: str | None = None


class ListJobsResponse(BaseModel):
    jobs: list[DescribeJob]
    next_token: str | None = None
