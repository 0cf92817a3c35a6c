"""/job_definitions: create, list, describe, update, pause, resume, delete, run now.

Notebooks come inline (their JSON), never as a path on the server's disk.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shiftwork.api.routes.errors import RESPONSES
from shiftwork.api.routes.inline import (
    EXAMPLE_NOTEBOOK,
    INLINE_FIELDS,
    InlineNotebook,
    OptionalInlineNotebook,
    materialised,
)
from shiftwork.api.routes.paging import MaxItems, NextToken
from shiftwork.api.service import Service
from shiftwork.models import (
    CreateJobDefinition,
    DefinitionChanges,
    DefinitionSpec,
    DescribeJob,
    DescribeJobDefinition,
    ListJobDefinitionsResponse,
    UpdateJobDefinition,
)
from shiftwork.models.definition import DEFINITION_SORT_FIELDS, ListJobDefinitionsQuery
from shiftwork.models.job import parse_csv, parse_sort_by, parse_time_ms
from shiftwork.models.limits import DEFINITION_ID_PATTERN, MAX_DEFINITION_ID, MAX_QUERY_TEXT, Token
from shiftwork.models.parameters import check_parameters
from shiftwork.store.listing import MAX_SORTED_ITEMS

router = Router()

DefinitionId = Annotated[
    str, Path(pattern=DEFINITION_ID_PATTERN, max_length=MAX_DEFINITION_ID, description="A job definition's id.")
]


class CreateDefinitionRequest(InlineNotebook, DefinitionSpec):
    """A definition of a notebook sent inline; job_definition_id, if given, is its id (else a new UUID)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "input_filename": "double.ipynb",
                    "input_notebook": EXAMPLE_NOTEBOOK,
                    "job_definition_id": "daily-double",
                    "schedule": "0 9 * * mon-fri",
                    "timezone": "Europe/London",
                    "conflict_policy": "replace",
                }
            ]
        }
    )


class UpdateDefinitionRequest(OptionalInlineNotebook, DefinitionChanges):
    """Changes, and perhaps a new notebook sent inline."""


class RunRequest(BaseModel):
    parameters: dict[str, Any] = Field(default_factory=dict)
    idempotency_token: Token | None = Field(
        default=None, description="A repeat of the request with the same token gets the job the first one made."
    )

    @field_validator("parameters")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_parameters(value)


class ResumeRequest(BaseModel):
    resume_from: str = Field(default="now", max_length=64, description="now, or an ISO 8601 time in the past.")


class DeletedDefinition(BaseModel):
    job_definition_id: str
    deleted: bool


def _service() -> Service:
    return Service()


LIST_DEFINITIONS_HELP = f"""One page of job definitions: `{{"job_definitions": [...], "next_token": ...}}`.

Filters combine. `sort_by` is a comma-separated list (repeated `sort_by` parameters work too) of fields, each
`field` (ascending), `-field`, `field:desc` or `desc(field)` (descending): {", ".join(DEFINITION_SORT_FIELDS)}.
Definitions without a schedule come last either way; ties go to the next field, then to job_definition_id.
Sorted by create_time alone the list pages through any number of definitions; any other order sorts at most
{MAX_SORTED_ITEMS:,} matching definitions (more is a 400 naming sort_by: add filters). Send next_token back with
the same filters and sort_by for the next page; it is null after the last page.
"""


@router.get("/", description=LIST_DEFINITIONS_HELP, responses=RESPONSES)
def list_definitions(
    name: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_TEXT, description="Only definitions whose name starts with this (case-sensitive)."),
    ] = None,
    schedule: Annotated[
        str | None, Query(max_length=MAX_QUERY_TEXT, description="Only definitions with exactly this schedule text.")
    ] = None,
    paused: Annotated[bool | None, Query(description="true: only paused definitions; false: only active.")] = None,
    tags: Annotated[
        list[str] | None,
        Query(
            max_length=50, description="Only definitions with every one of these tags (comma-separated or repeated)."
        ),
    ] = None,
    create_time: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_TEXT,
            description="Only definitions created at or after this: ms since the epoch, or ISO 8601.",
        ),
    ] = None,
    sort_by: Annotated[
        list[str] | None,
        Query(
            max_length=20, description="Order, e.g. `name` or `-update_time` (default `-create_time`: newest first)."
        ),
    ] = None,
    max_items: MaxItems = 100,
    next_token: NextToken = None,
) -> ListJobDefinitionsResponse:
    """One page of job definitions, filtered and sorted: see LIST_DEFINITIONS_HELP (in /openapi.json)."""
    query = ListJobDefinitionsQuery(
        name=name or None,
        schedule=schedule or None,
        paused=paused,
        tags=parse_csv(tags),
        create_time=parse_time_ms("create_time", create_time),
        sort_by=parse_sort_by(sort_by, DEFINITION_SORT_FIELDS),
        max_items=max_items,
        next_token=next_token or None,
    )
    return _service().definitions.list(query=query)


@router.post("/", responses=RESPONSES)
def create_definition(request: CreateDefinitionRequest) -> DescribeJobDefinition:
    fields = request.model_dump(exclude={*INLINE_FIELDS, "job_definition_id"})
    with materialised(request.input_filename, request.input_notebook, request.input_files) as notebook:
        definition = CreateJobDefinition.model_validate(
            {**fields, "input_uri": str(notebook), "package_input_folder": bool(request.input_files)}
        )
        created = _service().definitions.create(definition, request.job_definition_id)
    return created


@router.get("/<definition_id>", responses=RESPONSES)
def get_definition(definition_id: DefinitionId) -> DescribeJobDefinition:
    return _service().definitions.get(definition_id)


class DefinitionVersions(BaseModel):
    versions: list[DescribeJobDefinition]


@router.get("/<definition_id>/versions", responses=RESPONSES)
def versions(definition_id: DefinitionId) -> DefinitionVersions:
    """Every version the definition had, newest first (each update makes one)."""
    return DefinitionVersions(versions=_service().definitions.versions(definition_id))


@router.patch("/<definition_id>", responses=RESPONSES)
def update_definition(definition_id: DefinitionId, request: UpdateDefinitionRequest) -> DescribeJobDefinition:
    changes = request.model_dump(exclude=INLINE_FIELDS, exclude_unset=True)
    if request.input_notebook is None:
        update = UpdateJobDefinition.model_validate(changes)
        return _service().definitions.update(definition_id, update)
    filename = request.input_filename or "notebook.ipynb"
    with materialised(filename, request.input_notebook, request.input_files) as notebook:
        update = UpdateJobDefinition.model_validate({**changes, "input_uri": str(notebook)})
        return _service().definitions.update(definition_id, update)


@router.post("/<definition_id>/pause", responses=RESPONSES)
def pause(definition_id: DefinitionId) -> DescribeJobDefinition:
    return _service().definitions.pause(definition_id)


@router.post("/<definition_id>/resume", responses=RESPONSES)
def resume(definition_id: DefinitionId, request: ResumeRequest) -> DescribeJobDefinition:
    return _service().definitions.resume(definition_id, request.resume_from)


@router.delete("/<definition_id>", responses=RESPONSES)
def delete(definition_id: DefinitionId) -> DeletedDefinition:
    _service().definitions.delete(definition_id)
    return DeletedDefinition(job_definition_id=definition_id, deleted=True)


@router.post("/<definition_id>/jobs", responses=RESPONSES)
def run(definition_id: DefinitionId, request: RunRequest) -> DescribeJob:
    return _service().definitions.run(definition_id, request.parameters, request.idempotency_token)
