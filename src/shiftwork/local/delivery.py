"""Local event delivery: poll the SQS queues that stand in for Lambda targets and invoke handlers in-process."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from shiftwork import aws

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Any]


class QueueWorker(threading.Thread):
    """Receives from one queue and calls `handler(body)`; a message is deleted only after the handler returns.

    A handler that raises leaves its message to come back after the visibility timeout (and, after repeated
    failures, to go to the dead-letter queue), as a Lambda's event source mapping would.
    """

    def __init__(self, name: str, queue_url: str, handler: Handler, wait_seconds: int = 1) -> None:
        super().__init__(daemon=True, name=f"queue-{name}")
        self.queue_url = queue_url
        self.handler = handler
        self.wait_seconds = wait_seconds
        self._stopping = threading.Event()

    def run(self) -> None:
        sqs = aws.client("sqs")
        while not self._stopping.is_set():
            try:
                if not self.poll_once(sqs) and self.wait_seconds == 0:
                    self._stopping.wait(0.05)  # short polling: a stop is never kept waiting by a long poll
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("polling %s failed", self.queue_url)
                self._stopping.wait(1.0)

    def poll_once(self, sqs: Any, wait_seconds: int | None = None) -> int:
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        response = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        messages = response.get("Messages", [])
        for message in messages:
            try:
                self.handler(json.loads(message["Body"]))
            except Exception:
                log.exception("handler for %s failed; the message will be delivered again", self.queue_url)
                continue
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def stop(self) -> None:
        self._stopping.set()
