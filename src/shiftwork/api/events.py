"""What the Lambda handlers (functions/) call: one function per event source. The embedded stack calls them too."""

from __future__ import annotations

import logging
from typing import Any

from shiftwork.launchers import default_launcher

log = logging.getLogger(__name__)


def on_dispatch(event: dict[str, Any]) -> dict[str, Any] | None:
    """A run-now request ({"job_id"}) or an EventBridge Scheduler fire ({"job_definition_id", ...})."""
    if "job_definition_id" in event:
        from shiftwork.dispatch.fire import handle_schedule_fired

        job = handle_schedule_fired(event, default_launcher())
    else:
        from shiftwork.dispatch import dispatch_job
        from shiftwork.errors import NotFound

        try:
            job = dispatch_job(str(event["job_id"]), default_launcher())
        except NotFound:  # deleted while its request waited in the queue (a retry's backoff): nothing to run
            log.info("job %s is gone; dispatch request ignored", event["job_id"])
            return None
    return job.model_dump(mode="json") if job else None


def on_task_stopped(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The detail of an ECS Task State Change event."""
    from shiftwork.dispatch import handle_task_state_change
    from shiftwork.dispatch.aftermath import after_job_ended

    job = handle_task_state_change(detail)
    if job is not None:
        after_job_ended(job)  # retry a failure, notify
    return job.model_dump(mode="json") if job else None


def on_reconcile() -> dict[str, Any]:
    """The periodic EventBridge "Scheduled Event": repair drifted slot counts; what it found."""
    from dataclasses import asdict

    from shiftwork.dispatch.reconcile import reconcile_active_counts

    drifts = reconcile_active_counts()
    return {"drifts": [asdict(drift) for drift in drifts], "repaired": sum(drift.repaired for drift in drifts)}


def on_object_created(bucket: str, key: str, version: str) -> list[dict[str, Any]]:
    """An S3 Object Created event (through EventBridge): the jobs it started (inbox/, watched prefixes)."""
    from shiftwork.dispatch.arrival import on_object_created as arrived

    return [job.model_dump(mode="json") for job in arrived(bucket, key, version, default_launcher())]


def on_task_invoked(event: dict[str, Any]) -> dict[str, Any]:
    """The task function's invocation ({"job_id", "task_id", "attempt"}): run that attempt of a workflow task.

    It does not advance the run: its outcome record reaches complete (on_task_function_finished), which does, as
    an ECS task's stop does for a container, and which also learns of a timeout or a kill the handler never sees.
    """
    from shiftwork.workflows.lambda_executor import run_invocation

    return run_invocation(event, pass_on=False)


def on_task_function_finished(record: dict[str, Any]) -> dict[str, Any] | None:
    """The task function's invocation record (its EventBridge destination; "requestPayload" is the task's event,
    "requestContext.condition" "Success" or why it failed, a timeout included): settle the attempt, advance the run."""
    from shiftwork.store import jobs
    from shiftwork.workflows.lambda_executor import settle_dead, settle_ended

    event = record.get("requestPayload") or {}
    job_id, task_id = event.get("job_id"), event.get("task_id")
    if not job_id or not task_id:
        log.warning("a task function record without a task: %s", str(record)[:300])
        return None
    condition = (record.get("requestContext") or {}).get("condition")
    if condition == "Success":
        settle_ended(str(job_id), str(task_id))  # what the invocation did not report is FAILED
    else:
        settle_dead(str(job_id), str(task_id))  # a timeout or a kill: the runner never reported
    return jobs.get(str(job_id)).model_dump(mode="json")
