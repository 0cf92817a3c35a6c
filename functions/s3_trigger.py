"""S3 trigger: Object Created (through EventBridge) -> a notebook under inbox/ runs as a job."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shiftwork.api.events import on_object_created

logger = Logger(service="shiftwork-s3-trigger")
metrics = Metrics(namespace="Shiftwork", service="s3_trigger")


@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    # The parser (pydantic) loads on the first call, with the job models that call needs (pydantic) anyway.
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel

    parsed = parse(event=event, model=S3EventNotificationEventBridgeModel)
    started: list[dict[str, Any]] = []
    if parsed.detail_type == "Object Created":  # S3 also sends "Object Tags Added" and others
        s3_object = parsed.detail.object
        # one job per upload, however often its event is delivered: what identifies the PUT
        version = f"{s3_object.sequencer}:{s3_object.etag}:{parsed.time.isoformat()}"
        started = on_object_created(parsed.detail.bucket.name, s3_object.key, version)
    metrics.add_metric(
        name="ArrivalsRun" if started else "ObjectEventsIgnored", unit=MetricUnit.Count, value=max(1, len(started))
    )
    return started
