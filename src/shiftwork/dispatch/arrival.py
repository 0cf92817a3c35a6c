"""A file landed in S3: a notebook uploaded under inbox/ runs as a job, once per upload."""

from __future__ import annotations

import logging
import uuid
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.errors import Conflict
from shiftwork.models import DescribeJob, Status
from shiftwork.store import files, jobs

if TYPE_CHECKING:
    from shiftwork.launchers import Launcher

log = logging.getLogger(__name__)

INBOX = "inbox/"
_ARRIVAL_NAMESPACE = uuid.UUID("5d7c1a2e-8f3b-4c6d-9e0f-1a2b3c4d5e6f")


def arrival_job_id(bucket: str, key: str, version: str) -> str:
    """One job per upload: the same object event delivered twice names the same job."""
    return str(uuid.uuid5(_ARRIVAL_NAMESPACE, f"{bucket}/{key}/{version}"))


def on_object_created(bucket: str, key: str, version: str, launcher: Launcher) -> DescribeJob | None:
    """Run a notebook uploaded under inbox/; anything else is not ours to run."""
    settings = get_settings()
    if bucket != settings.bucket or not key.startswith(INBOX) or not key.endswith(".ipynb"):
        return None
    name = PurePosixPath(key).name
    job_id = arrival_job_id(bucket, key, version)
    aws.client("s3", settings).copy_object(
        Bucket=bucket, Key=files.input_prefix(job_id) + name, CopySource={"Bucket": bucket, "Key": key}
    )
    now = jobs.now_ms()
    job = DescribeJob(
        job_id=job_id,
        name=PurePosixPath(name).stem,
        status=Status.QUEUED,
        input_filename=name,
        create_time=now,
        update_time=now,
        output_prefix=files.output_prefix(job_id),
        tags=[f"s3://{bucket}/{key}"],
    )
    try:
        jobs.put_new(job)
    except Conflict:
        return jobs.get(job_id)  # a duplicate delivery of the same upload
    from shiftwork.dispatch.dispatcher import launch_queued

    log.info("s3://%s/%s arrived: job %s", bucket, key, job_id)
    return launch_queued(job, launcher)
