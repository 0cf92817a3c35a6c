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
    """What a refused request must not change: the three tables, the bucket's keys, the schedules.

    Read from the embedded moto server's own store (it serves from this process): a Scan over HTTP costs moto about
    2 ms an item, and the API fuzz compares the whole state after each of some 1,600 refused writes.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.scheduler.models import scheduler_backends

    from shiftwork.config import get_settings

    settings = get_settings()
    dynamodb = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region]
    tables = {
        table: sorted(repr(sorted(item.to_json()["Attributes"].items())) for item in _items(dynamodb, table))
        for table in (settings.jobs_table, settings.definitions_table, settings.tasks_table)
    }
    bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(settings.bucket)
    keys = sorted((name, key.etag) for name, key in list(bucket.keys.items()))
    group = scheduler_backends[DEFAULT_ACCOUNT_ID][settings.region].get_schedule_group(settings.schedule_group)
    return {"tables": tables, "keys": keys, "schedules": sorted(group.schedules)}


def _items(dynamodb: Any, table: str) -> list[Any]:
    return dynamodb.get_table(table).all_items()


def settle(since_ms: int, timeout: float = 60) -> None:
    """Stop what the last call started and wait until no job is active and each one that ran has its log archive
    (the launcher writes it last), so that state holds still."""
    from shiftwork.api.service import STOPPABLE, Service
    from shiftwork.errors import Conflict
    from shiftwork.models import Status

    service = Service()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recent = _jobs_since(since_ms)  # what the caller started: earlier tests' jobs are theirs to settle
        active = [job for job in recent if job.status in (*STOPPABLE, Status.STOPPING)]
        unarchived = [job for job in recent if job.log_stream and not _archived(job.job_id)]
        if not active and not unarchived:
            return
        for job in active:
            if job.status in STOPPABLE:
                with contextlib.suppress(Conflict):  # it moved on meanwhile
                    service.stop_job(job.job_id)
        time.sleep(0.05)  # each look reads a page of jobs and a key or two: cheap enough to look often
    raise AssertionError(f"jobs still active after {timeout} s: {[j.job_id for j in active]}")


def _jobs_since(since_ms: int) -> list[Any]:
    """Every job created at or after since_ms, read newest first in small pages and no further than that."""
    from shiftwork.models import ListJobsQuery
    from shiftwork.models.paging import pages
    from shiftwork.store import jobs

    found = []
    for page in pages(jobs.list_jobs, ListJobsQuery(max_items=50)):  # the default order: create_time, newest first
        found += [job for job in page.jobs if job.create_time >= since_ms]
        if any(job.create_time < since_ms for job in page.jobs):
            break
    return found


_ARCHIVED: set[str] = set()  # jobs whose log archive settle has seen: it stays until the job is deleted


def _archived(job_id: str) -> bool:
    from shiftwork.store import files

    if job_id not in _ARCHIVED and files.logs_key(job_id) in set(files.iter_keys(files.logs_key(job_id))):
        _ARCHIVED.add(job_id)
    return job_id in _ARCHIVED
