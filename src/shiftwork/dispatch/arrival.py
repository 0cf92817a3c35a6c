"""A file landed in S3: a notebook uploaded under inbox/ runs as a job, once per upload."""

from __future__ import annotations

import logging
import uuid
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.errors import Conflict, NotFound
from shiftwork.models import DescribeJob, DescribeJobDefinition, Status
from shiftwork.store import definitions, files, jobs

if TYPE_CHECKING:
    from shiftwork.launchers import Launcher

log = logging.getLogger(__name__)

INBOX = "inbox/"
_ARRIVAL_NAMESPACE = uuid.UUID("5d7c1a2e-8f3b-4c6d-9e0f-1a2b3c4d5e6f")


def arrival_job_id(bucket: str, key: str, version: str) -> str:
    """One job per upload: the same object event delivered twice names the same job."""
    return str(uuid.uuid5(_ARRIVAL_NAMESPACE, f"{bucket}/{key}/{version}"))


def on_object_created(bucket: str, key: str, version: str, launcher: Launcher) -> list[DescribeJob]:
    """Run a notebook uploaded under inbox/, and every active definition watching a prefix of the key."""
    settings = get_settings()
    if bucket != settings.bucket:
        return []
    runs = (_watchers_run(definition, bucket, key, version, launcher) for definition in _watching(key))
    started = [job for job in runs if job is not None]
    if key.startswith(INBOX) and key.endswith(".ipynb"):
        started.append(_inbox_run(bucket, key, version, launcher))
    return started


def _watching(key: str) -> list[DescribeJobDefinition]:
    """Active definitions whose watch prefix the key is under (a Query on the definitions' index)."""
    found, token = [], None
    while True:
        page = definitions.list_definitions(max_items=200, next_token=token)
        found += [d for d in page.job_definitions if d.active and d.watch_prefix and key.startswith(d.watch_prefix)]
        token = page.next_token
        if not token:
            return found


def _watchers_run(
    definition: DescribeJobDefinition, bucket: str, key: str, version: str, launcher: Launcher
) -> DescribeJob | None:
    """Run the definition with the object's key as the s3_key parameter, once per upload (None: it is gone)."""
    from shiftwork.dispatch.dispatcher import launch_unlaunched
    from shiftwork.dispatch.fire import admit_or_skip, new_job

    job_id = arrival_job_id(bucket, key, f"{version}/{definition.job_definition_id}")
    job = new_job(definition, job_id, None, status=Status.QUEUED, parameters={"s3_key": key})
    job = job.model_copy(update={"tags": [*job.tags, f"s3://{bucket}/{key}"]})
    try:
        job, _admitted = admit_or_skip(job)  # SKIPPED while max_running_jobs of its jobs are queued or running
    except NotFound:
        log.info("definition %s was deleted; s3://%s/%s ignored for it", definition.job_definition_id, bucket, key)
        return None
    return launch_unlaunched(job, launcher)  # a duplicate delivery too, if the first died before launching


def _inbox_run(bucket: str, key: str, version: str, launcher: Launcher) -> DescribeJob:
    settings = get_settings()
    name = PurePosixPath(key).name
    job_id = arrival_job_id(bucket, key, version)
    aws.client("s3", settings).copy_object(
        Bucket=bucket, Key=files.input_prefix(job_id) + name, CopySource={"Bucket": bucket, "Key": key}
    )
    job = jobs.draft(
        job_id,
        name=PurePosixPath(name).stem,
        status=Status.QUEUED,
        input_filename=name,
        kernel_name=None,  # the notebook's own kernelspec: the runner reads it (no heavy imports here)
        tags=[f"s3://{bucket}/{key}"],
    )
    try:
        jobs.put_new(job)
        log.info("s3://%s/%s arrived: job %s", bucket, key, job_id)
    except Conflict:
        job = jobs.get(job_id)  # a duplicate delivery of the same upload
    from shiftwork.dispatch.dispatcher import launch_unlaunched

    return launch_unlaunched(job, launcher)
