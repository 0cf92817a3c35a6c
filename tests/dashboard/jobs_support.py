"""Jobs for the Jobs and Job pages' tests: records written straight to the store, each test's own by a unique tag."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from shiftwork.models import DescribeJob, Status
from tests.helpers import write_notebook


def unique_tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def make_job(folder: Path, status: Status = Status.COMPLETED, upload: bool = True, **fields: Any) -> DescribeJob:
    """A job record (and, with `upload`, its input notebook) in the store, never dispatched."""
    from shiftwork.store import files, jobs

    job_id = str(uuid.uuid4())
    notebook = write_notebook(folder / f"{job_id}.ipynb", "x = 1", "print(x)")
    if upload:
        files.upload_file(notebook, files.input_prefix(job_id) + notebook.name)
    create_time = fields.pop("create_time", None)
    job = jobs.draft(
        job_id,
        name=fields.pop("name", "made"),
        status=status,
        input_filename=fields.pop("input_filename", notebook.name),
        output_formats=["ipynb"],
        **fields,
    )
    if create_time is not None:
        job = job.model_copy(update={"create_time": create_time})
    return jobs.put_new(job)
