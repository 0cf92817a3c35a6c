"""The embedded stack invokes the same Lambda handlers AWS does (functions/), with a Lambda-shaped context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    """What Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def invoke(name: str, event: dict[str, Any]) -> Any:
    """Call functions/<name>.lambda_handler as Lambda would."""
    import importlib

    module = importlib.import_module(f"functions.{name}")
    return module.lambda_handler(event, LocalContext(f"shiftwork-{name.replace('_', '-')}"))


ENVELOPE = {"version": "0", "account": "123456789012", "region": "us-east-1", "resources": []}


def on_event(event: dict[str, Any]) -> Any:
    """Route an EventBridge event from the events queue to the handler its rule targets in AWS."""
    event = {**ENVELOPE, **event}  # moto leaves out envelope fields EventBridge always sends
    detail_type = event.get("detail-type")
    if detail_type == "ECS Task State Change":
        return invoke("complete", event)
    if event.get("source") == "aws.s3" and detail_type == "Object Created":
        key = str(event.get("detail", {}).get("object", {}).get("key", ""))
        if key.startswith("jobs/"):  # as the stack's rule ("anything-but" jobs/): Shiftwork's own writes
            return None
        return invoke("s3_trigger", event)
    return None  # e.g. the "Object Tags Added" S3 sends with every put
