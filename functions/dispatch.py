"""Dispatch: EventBridge Scheduler fires and run-now requests -> one job, launched once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftwork.api.events import on_dispatch

logger = Logger(service="shiftwork-dispatch")
metrics = Metrics(namespace="Shiftwork", service="dispatch")


@logger.inject_lambda_context(correlation_id_path="execution_id || job_id || job_definition_id")
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    job = on_dispatch(event)  # idempotent: one job per (definition, scheduled time) or per job id
    metrics.add_metric(
        name="JobsDispatched" if job and job["status"] != "SKIPPED" else "FiresSkipped", unit=MetricUnit.Count, value=1
    )
    return job
