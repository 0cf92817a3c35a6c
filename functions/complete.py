"""Complete: ECS Task State Change (STOPPED) -> settle the job if its runner could not.

Its periodic EventBridge "Scheduled Event" (source aws.events) repairs drifted max_running_jobs counts instead.
The task function's invocation records (source lambda, its destinations) settle a workflow task run on Lambda.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftwork.api.events import on_reconcile, on_task_function_finished, on_task_stopped

logger = Logger(service="shiftwork-complete")
metrics = Metrics(namespace="Shiftwork", service="complete")


@logger.inject_lambda_context(correlation_id_path="detail.taskArn || detail.requestContext.requestId")
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    # The parser (pydantic) loads on the first call, with the job models that call needs (pydantic) anyway.
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    parsed = parse(event=event, model=EventBridgeModel)
    if parsed.source == "aws.events" and parsed.detail_type == "Scheduled Event":
        found = on_reconcile()
        metrics.add_metric(name="SlotCountsRepaired", unit=MetricUnit.Count, value=found["repaired"])
        return found
    if parsed.source == "lambda":  # "Lambda Function Invocation Result - Success" or "- Failure"
        task = on_task_function_finished(parsed.detail)
        metrics.add_metric(name="TaskInvocationsSettled", unit=MetricUnit.Count, value=1)
        return task
    job = on_task_stopped(parsed.detail)  # idempotent: conditional writes on the job's status
    failed = bool(job and job["status"] == "FAILED")
    metrics.add_metric(name="JobsFailed" if failed else "TasksSettled", unit=MetricUnit.Count, value=1)
    return job
