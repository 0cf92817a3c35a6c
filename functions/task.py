"""Task: the Lambda executor of a light workflow task (executor="lambda") -> that task's one attempt, run.

Invoked asynchronously by the launcher (dispatch, complete, s3_trigger) with {"job_id", "task_id", "attempt"}.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftwork.api.events import on_task_invoked

logger = Logger(service="shiftwork-task")


@logger.inject_lambda_context(correlation_id_path="job_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    logger.append_keys(task_id=event.get("task_id"), attempt=event.get("attempt"))
    # Lambda delivers an asynchronous event at least once: on_task_invoked settles an attempt only once
    return on_task_invoked(event)
