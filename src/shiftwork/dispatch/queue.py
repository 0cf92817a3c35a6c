"""The dispatch queue: what hands a job or a fire to the dispatcher, at once or after a delay.

On AWS and in the embedded stack alike, the dispatcher consumes an SQS queue (SHIFTWORK_DISPATCH_QUEUE_URL), so a
retry's backoff is the message's DelaySeconds. Without a queue the job is dispatched inline, and cannot wait.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import get_settings

if TYPE_CHECKING:
    from shiftwork.config import Settings

log = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 900  # SQS's longest per-message delay: longer backoffs are capped to it


def _send(payload: dict[str, Any], delay_seconds: int, settings: Settings) -> bool:
    """Queue `payload` for the dispatcher; False when no dispatch queue is configured."""
    if not settings.dispatch_queue_url:
        return False
    request: dict[str, Any] = {"QueueUrl": settings.dispatch_queue_url, "MessageBody": json.dumps(payload)}
    if delay_seconds > 0:
        request["DelaySeconds"] = min(int(delay_seconds), MAX_DELAY_SECONDS)
    aws.client("sqs", settings).send_message(**request)
    return True


def request_dispatch(job_id: str, delay_seconds: float = 0, settings: Settings | None = None) -> None:
    """Have the dispatcher queue and launch `job_id`, no sooner than `delay_seconds` (at most 900) from now."""
    settings = settings or get_settings()
    if _send({"job_id": job_id}, int(delay_seconds), settings):
        return
    from shiftwork.dispatch.dispatcher import dispatch_job
    from shiftwork.launchers import default_launcher

    if delay_seconds > 0:
        log.warning("no dispatch queue configured: job %s dispatched now, not in %g s", job_id, delay_seconds)
    dispatch_job(job_id, default_launcher(settings))


def deliver_fire(payload: dict[str, Any], settings: Settings | None = None) -> None:
    """Hand the dispatcher a schedule fire (the payload EventBridge Scheduler sends its target)."""
    settings = settings or get_settings()
    if _send(payload, 0, settings):
        return
    from shiftwork.dispatch.fire import handle_schedule_fired
    from shiftwork.launchers import default_launcher

    handle_schedule_fired(payload, default_launcher(settings))
