"""/jobs: Jupyter Scheduler's job routes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from shiftwork.api.service import Service, parse_status
from shiftwork.models import CreateJob, ListJobsQuery

router = Router()


class CreateJobRequest(BaseModel):
    """A job from a notebook sent inline (its nbformat JSON), as a front end without the server's disk would."""

    input_filename: str = Field(pattern=r"^[^/\\]+\.ipynb$")
    input_notebook: dict[str, Any]
    name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    output_formats: list[str] = Field(default_factory=lambda: ["ipynb"])
    kernel_name: str = "python3"
    timeout_seconds: float | None = Field(default=None, gt=0)
    idempotency_token: str | None = None
    tags: list[str] = Field(default_factory=list)


def _service() -> Service:
    return Service()


@router.post("/")
def create_job(request: CreateJobRequest) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        notebook = Path(scratch, request.input_filename)
        notebook.write_text(json.dumps(request.input_notebook))
        fields = request.model_dump(exclude={"input_filename", "input_notebook"})
        job = _service().create_job(CreateJob(input_uri=str(notebook), **fields))
    return job.model_dump(mode="json")


@router.get("/")
def list_jobs(
    status: Annotated[str | None, Query()] = None,
    job_definition_id: Annotated[str | None, Query()] = None,
    max_items: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    query = ListJobsQuery(
        status=parse_status(status), job_definition_id=job_definition_id, max_items=max_items, next_token=next_token
    )
    return _service().list_jobs(query).model_dump(mode="json")


@router.get("/<job_id>")
def get_job(job_id: str) -> dict[str, Any]:
    return _service().get_job(job_id).model_dump(mode="json")


@router.post("/<job_id>/stop")
def stop_job(job_id: str) -> dict[str, Any]:
    return _service().stop_job(job_id).model_dump(mode="json")


@router.delete("/<job_id>")
def delete_job(job_id: str) -> dict[str, Any]:
    _service().delete_job(job_id)
    return {"job_id": job_id, "deleted": True}


@router.get("/<job_id>/download_urls")
def download_urls(job_id: str) -> dict[str, Any]:
    """Presigned GET URLs for each of the job's files (valid one hour)."""
    return {"job_id": job_id, "urls": _service().download_urls(job_id)}


@router.get("/<job_id>/logs")
def logs(job_id: str, next_token: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    events, token = _service().job_logs(job_id, next_token)
    return {"events": events, "next_token": token}
