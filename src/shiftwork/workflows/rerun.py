"""Reruns: a new run linked to the original, reusing its completed tasks' results unless it is a full rerun."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from shiftwork import aws
from shiftwork.errors import InvalidSpec, NotFound
from shiftwork.models import DescribeJob, Status
from shiftwork.store import definitions, jobs

if TYPE_CHECKING:
    from shiftwork.config import Settings


def version_prefix(definition_id: str, version: int, settings: Settings) -> str:
    """Where version N of a definition keeps its snapshot (each version keeps its own: definitions/<id>/vN-*/)."""
    listed = aws.client("s3", settings).list_objects_v2(
        Bucket=settings.bucket, Prefix=f"definitions/{definition_id}/v{version}-", MaxKeys=1
    )
    for item in listed.get("Contents", []):
        key = str(item["Key"])
        return key[: key.index("/input/") + len("/input/")]
    raise InvalidSpec("version", version, f"definition {definition_id} has no version {version}")


def new_rerun(original: DescribeJob, full: bool, version: int | None, settings: Settings) -> DescribeJob:
    """Record the rerun (CREATED, or holding a slot when the original is a definition's)."""
    prefix = original.input_prefix
    job_version = original.job_definition_version
    if version is not None:
        if not original.job_definition_id:
            raise InvalidSpec("version", version, "only a deployed workflow's runs have versions: rerun without it")
        prefix, job_version = version_prefix(original.job_definition_id, version, settings), version
    elif prefix is None:
        prefix = f"jobs/{original.job_id}/input/"  # a run now keeps its snapshot under its own id
    job = jobs.draft(
        str(uuid.uuid4()),
        name=original.name,
        status=Status.CREATED,
        input_filename=original.input_filename,
        input_prefix=prefix,
        parameters=original.parameters,
        output_formats=[],
        tags=original.tags,
        kind="workflow",
        job_definition_id=original.job_definition_id,
        job_definition_version=job_version,
        original_run_id=original.job_id,
        partial_rerun=not full,
    )
    if original.job_definition_id:
        from shiftwork.store import slots

        try:
            definitions.get(original.job_definition_id)
        except NotFound:
            return jobs.put_new(job.model_copy(update={"job_definition_id": None}))
        return slots.admit(job)  # LimitReached (409) over max_running_jobs, as a run now of the definition
    return jobs.put_new(job)
