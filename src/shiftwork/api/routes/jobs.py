"""/jobs: Jupyter Scheduler's job routes."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shiftwork.api.routes.errors import RESPONSES
from shiftwork.api.routes.inline import EXAMPLE_NOTEBOOK, INLINE_FIELDS, InlineNotebook, materialised
from shiftwork.api.routes.paging import MaxItems, NextToken
from shiftwork.api.service import Service, parse_status
from shiftwork.models import CreateJob, DescribeJob, JobSpec, ListJobsQuery, ListJobsResponse
from shiftwork.models.job import JOB_SORT_FIELDS, parse_csv, parse_sort_by, parse_time_ms
from shiftwork.models.limits import MAX_QUERY_TEXT, UUID_PATTERN, Name
from shiftwork.store.listing import MAX_SORTED_ITEMS

router = Router()

JobId = Annotated[str, Path(pattern=UUID_PATTERN, description="A job's id (a UUID).")]
Text = Annotated[str | None, Query(max_length=MAX_QUERY_TEXT)]


class CreateJobRequest(InlineNotebook, JobSpec):
    """A job from a notebook sent inline (its nbformat JSON), as a front end without the server's disk would."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"input_filename": "double.ipynb", "input_notebook": EXAMPLE_NOTEBOOK, "parameters": {"n": 21}}
            ]
        }
    )


def _service() -> Service:
    return Service()


@router.post("/", responses=RESPONSES)
def create_job(request: CreateJobRequest) -> DescribeJob:
    with materialised(request.input_filename, request.input_notebook, request.input_files) as notebook:
        fields = request.model_dump(exclude=INLINE_FIELDS)
        job = _service().create_job(
            CreateJob(input_uri=str(notebook), package_input_folder=bool(request.input_files), **fields)
        )
    return job


LIST_JOBS_HELP = f"""One page of jobs, as Jupyter Scheduler's GET /jobs: `{{"jobs": [...], "next_token": ...}}`.

Filters combine. `sort_by` is a comma-separated list (repeated `sort_by` parameters work too) of fields, each
`field` (ascending), `-field`, `field:desc` or `desc(field)` (descending): {", ".join(JOB_SORT_FIELDS)}. Jobs
missing a value (not started yet) come last either way; ties go to the next field, then to job_id.
Sorted by create_time alone the list pages through any number of jobs; any other order sorts at most
{MAX_SORTED_ITEMS:,} matching jobs (more is a 400 naming sort_by: add filters). Send next_token back with the same
filters and sort_by for the next page; it is null after the last page.
"""


@router.get("/", description=LIST_JOBS_HELP, responses=RESPONSES)
def list_jobs(
    status: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Only jobs with this status, e.g. FAILED.")
    ] = None,
    job_definition_id: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Only the jobs of this definition.")
    ] = None,
    name: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_TEXT, description="Only jobs whose name starts with this (case-sensitive)."),
    ] = None,
    start_time: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_TEXT,
            description="Only jobs started at or after this: ms since the epoch, or ISO 8601.",
        ),
    ] = None,
    start_time_before: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_TEXT, description="Only jobs started before this: ms since the epoch, or ISO 8601."),
    ] = None,
    tags: Annotated[
        list[str] | None,
        Query(max_length=50, description="Only jobs with every one of these tags (comma-separated or repeated)."),
    ] = None,
    exclude_status: Annotated[
        list[str] | None,
        Query(max_length=20, description="Leave out jobs in these statuses, e.g. SKIPPED (comma-separated)."),
    ] = None,
    sort_by: Annotated[
        list[str] | None,
        Query(max_length=20, description="Order, e.g. `-start_time,name` (default `-create_time`: newest first)."),
    ] = None,
    kind: Annotated[
        Literal["notebook", "workflow"] | None, Query(description="Only notebook jobs, or only workflow runs.")
    ] = None,
    max_items: MaxItems = 100,
    next_token: NextToken = None,
) -> ListJobsResponse:
    """One page of jobs, filtered and sorted: see LIST_JOBS_HELP (the description in /openapi.json)."""
    query = ListJobsQuery(
        status=parse_status(status),
        job_definition_id=job_definition_id or None,
        name=name or None,
        start_time=parse_time_ms("start_time", start_time),
        start_time_before=parse_time_ms("start_time_before", start_time_before),
        exclude_status=[s for value in parse_csv(exclude_status) if (s := parse_status(value, "exclude_status"))],
        tags=parse_csv(tags),
        sort_by=parse_sort_by(sort_by, JOB_SORT_FIELDS),
        kind=kind,
        max_items=max_items,
        next_token=next_token or None,
    )
    return _service().list_jobs(query)


@router.get("/<job_id>", responses=RESPONSES)
def get_job(job_id: JobId) -> DescribeJob:
    return _service().get_job(job_id)


class UpdateJobRequest(BaseModel):
    """Jupyter Scheduler's UpdateJob: a new name, and/or status STOPPED to stop the job."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    status: str | None = Field(default=None, max_length=32)


@router.patch("/<job_id>", responses=RESPONSES)
def update_job(job_id: JobId, request: UpdateJobRequest) -> DescribeJob:
    return _service().update_job(job_id, name=request.name, status=parse_status(request.status))


@router.post("/<job_id>/stop", responses=RESPONSES)
def stop_job(job_id: JobId) -> DescribeJob:
    return _service().stop_job(job_id)


@router.post("/<job_id>/rerun", responses=RESPONSES)
def rerun_job(job_id: JobId) -> DescribeJob:
    """A new job like this one (a definition's through its definition, a one-off from its input snapshot)."""
    return _service().rerun_job(job_id)


class DeletedJob(BaseModel):
    job_id: str
    deleted: bool


@router.delete("/<job_id>", responses=RESPONSES)
def delete_job(job_id: JobId) -> DeletedJob:
    _service().delete_job(job_id)
    return DeletedJob(job_id=job_id, deleted=True)


class DownloadUrl(BaseModel):
    path: str
    display_name: str
    file_format: str
    url: str


class DownloadUrls(BaseModel):
    job_id: str
    urls: list[DownloadUrl]


@router.get("/<job_id>/download_urls", responses=RESPONSES)
def download_urls(
    job_id: JobId,
    include_input: Annotated[
        bool, Query(description="Also the notebook (and folder) the job ran from, under input/ (file_format input).")
    ] = False,
) -> DownloadUrls:
    """Presigned GET URLs for each of the job's files (valid one hour)."""
    urls = _service().download_urls(job_id, include_input=include_input)
    return DownloadUrls(job_id=job_id, urls=[DownloadUrl(**url) for url in urls])


class LogEvent(BaseModel):
    timestamp: int | None = None
    message: str
    ingestionTime: int | None = None  # CloudWatch's own name


class JobLogs(BaseModel):
    events: list[LogEvent]
    next_token: str | None = None


@router.get("/<job_id>/logs", responses=RESPONSES)
def logs(job_id: JobId, next_token: Text = None) -> JobLogs:
    events, token = _service().job_logs(job_id, next_token)
    return JobLogs(events=[LogEvent(**event) for event in events], next_token=token)
