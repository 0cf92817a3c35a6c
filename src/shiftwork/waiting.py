"""Waiting for a job to end, the same for the library's Service and the REST Client."""

from __future__ import annotations

import time
from collections.abc import Callable

from shiftwork.errors import WaitTimeout
from shiftwork.models import DescribeJob

POLL_SECONDS = 0.5


def wait_for_job(
    get_job: Callable[[str], DescribeJob], job_id: str, timeout: float | None = None, poll: float = POLL_SECONDS
) -> DescribeJob:
    """Poll until the job is COMPLETED, FAILED, STOPPED or SKIPPED; WaitTimeout after `timeout` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = get_job(job_id)
        if job.is_terminal:
            return job
        if deadline is not None and time.monotonic() >= deadline:
            raise WaitTimeout(job_id, timeout or 0, job.status.value)
        time.sleep(poll)
