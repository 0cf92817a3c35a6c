"""Dispatch: EventBridge Scheduler fires, and the dispatch queue's run-now requests and retries -> launched once."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftwork.api.events import on_dispatch

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger(service="shiftwork-dispatch")
metrics = Metrics(namespace="Shiftwork", service="dispatch")


def _dispatch(payload: dict[str, Any]) -> dict[str, Any] | None:
    job = on_dispatch(payload)  # idempotent: one job per (definition, scheduled time) or per job id
    metrics.add_metric(
        name="JobsDispatched" if job and job["status"] != "SKIPPED" else "FiresSkipped", unit=MetricUnit.Count, value=1
    )
    return job


def _record(record: SQSRecord) -> dict[str, Any] | None:
    return _dispatch(json.loads(record.body))  # the body is a dispatch payload, as Scheduler would send it


@logger.inject_lambda_context(correlation_id_path="execution_id || job_id || job_definition_id || Records[0].messageId")
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    if "Records" not in event:  # EventBridge Scheduler invokes the function with its payload
        return _dispatch(event)
    # An SQS batch from the dispatch queue: a record that fails alone comes back (then goes to the DLQ)
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    return process_partial_response(event, _record, BatchProcessor(EventType.SQS), context)  # type: ignore[return-value]
