"""/job_definitions: list, describe, update, pause, resume, delete, run now."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from shiftwork.api.service import Service
from shiftwork.models import UpdateJobDefinition

router = Router()


class RunRequest(BaseModel):
    parameters: dict[str, Any] = Field(default_factory=dict)


class ResumeRequest(BaseModel):
    resume_from: str = "now"


def _service() -> Service:
    return Service()


@router.get("/")
def list_definitions(
    max_items: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    return _service().definitions.list(max_items, next_token).model_dump(mode="json")


@router.get("/<definition_id>")
def get_definition(definition_id: str) -> dict[str, Any]:
    return _service().definitions.get(definition_id).model_dump(mode="json")


@router.patch("/<definition_id>")
def update_definition(definition_id: str, request: UpdateJobDefinition) -> dict[str, Any]:
    return _service().definitions.update(definition_id, request).model_dump(mode="json")


@router.post("/<definition_id>/pause")
def pause(definition_id: str) -> dict[str, Any]:
    return _service().definitions.pause(definition_id).model_dump(mode="json")


@router.post("/<definition_id>/resume")
def resume(definition_id: str, request: ResumeRequest) -> dict[str, Any]:
    return _service().definitions.resume(definition_id, request.resume_from).model_dump(mode="json")


@router.delete("/<definition_id>")
def delete(definition_id: str) -> dict[str, Any]:
    _service().definitions.delete(definition_id)
    return {"job_definition_id": definition_id, "deleted": True}


@router.post("/<definition_id>/jobs")
def run(definition_id: str, request: RunRequest) -> dict[str, Any]:
    from shiftwork.models.parameters import check_parameter_name

    for name in request.parameters:
        check_parameter_name(name)
    return _service().definitions.run(definition_id, request.parameters).model_dump(mode="json")
