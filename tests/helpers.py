"""Shared test helpers: notebooks written with nbformat, sample events loaded from events/."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def write_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """A notebook with a `parameters`-tagged cell followed by code cells."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    first = nbformat.v4.new_code_cell(parameters)
    first.metadata["tags"] = ["parameters"]
    notebook.cells = [first, *(nbformat.v4.new_code_cell(source) for source in cells)]
    nbformat.write(notebook, str(path))
    return path


def load_event(name: str, **replacements: str) -> dict[str, Any]:
    """A sample payload from events/, with placeholders like {{job_id}} filled in."""
    text = (EVENTS / name).read_text()
    for key, value in replacements.items():
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)


def cell_outputs(path: Path) -> list[str]:
    """The text every code cell printed or returned, in order."""
    notebook = nbformat.read(str(path), as_version=4)
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            elif "data" in output:
                texts.append(output["data"].get("text/plain", ""))
    return texts


def stack_state() -> dict[str, Any]:
    """What a refused request must not change: the three tables, the bucket's keys, the schedules."""
    from shiftwork import aws
    from shiftwork.config import get_settings

    settings = get_settings()
    dynamodb = aws.client("dynamodb", settings)
    tables = {
        table: sorted(
            repr(sorted(item.items()))
            for page in dynamodb.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        )
        for table in (settings.jobs_table, settings.definitions_table, settings.tasks_table)
    }
    s3 = aws.client("s3", settings)
    keys = sorted(
        (item["Key"], item["ETag"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket)
        for item in page.get("Contents", [])
    )
    scheduler = aws.client("scheduler", settings)
    schedules = sorted(
        s["Name"]
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=settings.schedule_group)
        for s in page.get("Schedules", [])
    )
    return {"tables": tables, "keys": keys, "schedules": schedules}


def settle(since_ms: int, timeout: float = 60) -> None:
    """Stop what the last call started and wait until no job is active and each one that ran has its log archive
    (the launcher writes it last), so that state holds still."""
    from shiftwork.api.service import STOPPABLE, Service
    from shiftwork.errors import Conflict
    from shiftwork.models import Status
    from shiftwork.store import files

    service = Service()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = [
            job
            for status in (*STOPPABLE, Status.STOPPING)
            for job in service.iter_jobs(status=status)
            if job.create_time >= since_ms  # what the caller started: earlier tests' jobs are theirs to settle
        ]
        ran = [job for job in service.iter_jobs() if job.create_time >= since_ms and job.log_stream]
        archived = set(files.iter_keys("jobs/")) if ran else set()
        if not active and all(files.logs_key(job.job_id) in archived for job in ran):
            return
        for job in active:
            if job.status in STOPPABLE:
                with contextlib.suppress(Conflict):  # it moved on meanwhile
                    service.stop_job(job.job_id)
        time.sleep(0.2)
    raise AssertionError(f"jobs still active after {timeout} s: {[j.job_id for j in active]}")
