"""Write and load the embedded stack's snapshot: DynamoDB items, S3 objects, CloudWatch log events and SNS
subscriptions."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from shiftwork import aws


def write_snapshot(target: Path) -> None:
    """Dump everything the stack keeps into `target` (a new folder)."""
    target.mkdir(parents=True)
    dynamodb = aws.client("dynamodb")
    with (target / "dynamodb.jsonl").open("w") as out:
        for table in dynamodb.list_tables()["TableNames"]:
            for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                for item in page["Items"]:
                    out.write(json.dumps({"table": table, "item": item}) + "\n")
    s3 = aws.client("s3")
    objects = target / "objects"
    objects.mkdir()
    with (target / "s3.jsonl").open("w") as out:
        count = 0
        for bucket in s3.list_buckets()["Buckets"]:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
                for entry in page.get("Contents", []):
                    response = s3.get_object(Bucket=bucket["Name"], Key=entry["Key"])
                    count += 1
                    (objects / str(count)).write_bytes(response["Body"].read())
                    record = {
                        "bucket": bucket["Name"],
                        "key": entry["Key"],
                        "file": str(count),
                        "content_type": response.get("ContentType"),
                        "metadata": response.get("Metadata", {}),
                    }
                    out.write(json.dumps(record) + "\n")
    logs = aws.client("logs")
    with (target / "logs.jsonl").open("w") as out:
        for page in logs.get_paginator("describe_log_groups").paginate():
            for group in page["logGroups"]:
                name = group["logGroupName"]
                for streams in logs.get_paginator("describe_log_streams").paginate(logGroupName=name):
                    for stream in streams["logStreams"]:
                        events = _all_events(logs, name, stream["logStreamName"])
                        record = {"group": name, "stream": stream["logStreamName"], "events": events}
                        out.write(json.dumps(record) + "\n")

    sns = aws.client("sns")
    with (target / "sns.jsonl").open("w") as out:
        for page in sns.get_paginator("list_subscriptions").paginate():
            for subscription in page["Subscriptions"]:
                record = {k: subscription[k] for k in ("TopicArn", "Protocol", "Endpoint")}
                out.write(json.dumps(record) + "\n")


def _all_events(logs: Any, group: str, stream: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token = None
    while True:
        request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            request["nextToken"] = token
        response = logs.get_log_events(**request)
        events.extend({"timestamp": e["timestamp"], "message": e["message"]} for e in response["events"])
        if not response["events"] or response.get("nextForwardToken") == token:
            return events
        token = response.get("nextForwardToken")


def load_snapshot(source: Path) -> None:
    """Put a snapshot's items, objects and log events into the (bootstrapped) stack."""
    if not (source / "meta.json").exists():
        return
    dynamodb = aws.client("dynamodb")
    batch: dict[str, list[dict[str, Any]]] = {}
    with (source / "dynamodb.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            batch.setdefault(record["table"], []).append({"PutRequest": {"Item": record["item"]}})
    for table, requests in batch.items():
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {table: requests[start : start + 25]}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    s3 = aws.client("s3")
    with (source / "s3.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            extra = {"ContentType": record["content_type"]} if record.get("content_type") else {}
            s3.put_object(
                Bucket=record["bucket"],
                Key=record["key"],
                Body=(source / "objects" / record["file"]).read_bytes(),
                Metadata=record.get("metadata") or {},
                **extra,
            )
    logs = aws.client("logs")
    with (source / "logs.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=record["group"])
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_stream(logGroupName=record["group"], logStreamName=record["stream"])
            for start in range(0, len(record["events"]), 5000):
                logs.put_log_events(
                    logGroupName=record["group"],
                    logStreamName=record["stream"],
                    logEvents=record["events"][start : start + 5000],
                )
    sns = aws.client("sns")
    if (source / "sns.jsonl").exists():  # snapshots from before subscriptions were kept have none
        with (source / "sns.jsonl").open() as lines:
            for line in lines:
                record = json.loads(line)
                sns.subscribe(**record, ReturnSubscriptionArn=True)
