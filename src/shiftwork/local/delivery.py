"""Local event delivery: poll the SQS queues that stand in for Lambda targets and invoke handlers in-process.

A queue that is an event source on AWS too (the dispatch queue) is delivered as Lambda's event source mapping
does: a batch event of SQS records, whose reported batchItemFailures stay in the queue.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from shiftwork import aws
from shiftwork.local.background import guarded, run_loop

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Any]


class QueueWorker(threading.Thread):
    """Receives from one queue and calls `handler(body)`; a message is deleted only after the handler returns.

    A handler that raises leaves its message to come back after the visibility timeout (and, after repeated
    failures, to go to the dead-letter queue), as a Lambda's event source mapping would. With `batch`, the
    handler gets the received messages as one SQS event and returns Lambda's partial batch response.
    """

    def __init__(
        self, name: str, queue_url: str, handler: Handler, wait_seconds: int = 1, *, batch: bool = False
    ) -> None:
        super().__init__(daemon=True, name=f"queue-{name}")
        self.queue_url = queue_url
        self.handler = handler
        self.wait_seconds = wait_seconds
        self.batch = batch
        self._stopping = threading.Event()

    def run(self) -> None:
        run_loop(f"polling {self.queue_url}", self._poll, self._stopping)

    def _poll(self) -> None:
        if not self.poll_once(aws.client("sqs")) and self.wait_seconds == 0:
            self._stopping.wait(0.05)  # short polling: a stop is never kept waiting by a long poll

    def poll_once(self, sqs: Any, wait_seconds: int | None = None) -> int:
        """Receive one batch and hand each message to the handler; a message it fails on is delivered again."""
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        response = sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, AttributeNames=["All"]
        )
        messages = response.get("Messages", [])
        done = self._deliver_batch(sqs, messages) if self.batch and messages else self._deliver_each(messages)
        for message in done:
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _deliver_each(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        done = []
        for message in messages:
            if guarded(f"the handler for {self.queue_url}", partial(self._handle, message)):
                done.append(message)  # else it is delivered again
        return done

    def _deliver_batch(self, sqs: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        responses: list[Any] = []
        event = sqs_event(messages, self._queue_arn(sqs), sqs.meta.region_name)
        if not guarded(f"the handler for {self.queue_url}", lambda: responses.append(self.handler(event))):
            return []  # the batch is delivered again
        response = responses[0]
        failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        if failed:
            log.warning(
                "%d of %d messages from %s failed; they will be delivered again",
                len(failed),
                len(messages),
                self.queue_url,
            )
        return [message for message in messages if message["MessageId"] not in failed]

    def _queue_arn(self, sqs: Any) -> str:
        attributes = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def _handle(self, message: dict[str, Any]) -> None:
        self.handler(json.loads(message["Body"]))

    def stop(self) -> None:
        self._stopping.set()


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """What Lambda's event source mapping sends a function for messages received from a queue."""
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for message in messages
    ]
    return {"Records": records}
