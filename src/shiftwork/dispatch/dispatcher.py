"""dispatch_job: CREATED -> QUEUED, then one launch per job however often the request arrives."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shiftwork.errors import Conflict, LaunchError
from shiftwork.models import DescribeJob, Status
from shiftwork.store import jobs

if TYPE_CHECKING:
    from shiftwork.launchers import Launcher

log = logging.getLogger(__name__)


def dispatch_job(job_id: str, launcher: Launcher) -> DescribeJob:
    """Queue and launch `job_id`. A duplicate delivery finds the job queued or launched and does nothing twice."""
    job = jobs.get(job_id)
    if job.status == Status.CREATED:
        try:
            job = jobs.update(job_id, [Status.CREATED], status=Status.QUEUED)
        except Conflict:
            job = jobs.get(job_id)  # another delivery got there first
    return launch_unlaunched(job, launcher)


def launch_unlaunched(job: DescribeJob, launcher: Launcher) -> DescribeJob:
    """Launch the job if it is QUEUED with no task yet, else return it as it is.

    Every delivery of a fire, upload or request ends here, the duplicates too: a dispatcher that died between
    recording the job and launching it leaves it QUEUED, and the next delivery launches it. Two at once start one
    task: ECS takes the job id as clientToken, the LocalLauncher dedupes by job id.
    """
    if job.kind == "workflow" and job.status == Status.QUEUED:
        from shiftwork.workflows.advance import launcher_for, start_run

        return start_run(job, launcher_for(launcher))  # its tasks, each launched once, however often this runs
    if job.status != Status.QUEUED or job.task_arn:
        log.info("job %s is %s%s: nothing to launch", job.job_id, job.status, " (launched)" if job.task_arn else "")
        return job
    return launch_queued(job, launcher)


def launch_queued(job: DescribeJob, launcher: Launcher) -> DescribeJob:
    """Launch a QUEUED job and record its task; a launch that fails fails the job with the reason."""
    job_id = job.job_id
    try:
        launched = launcher.launch(job)
    except LaunchError as error:
        return jobs.update(
            job_id,
            [Status.QUEUED, Status.IN_PROGRESS],  # a local runner may have started before the launch failed
            status=Status.FAILED,
            status_message=str(error),
            end_time=jobs.now_ms(),
        )
    # Whatever the status: a local runner may have finished before ECS answered this launch, and its logs are
    # found through log_stream. Recording the task never writes the status, so no transition is at stake.
    return jobs.record_task(job_id, launched.task_arn, launched.log_stream)
