"""Local event delivery: poll the SQS queues that stand in for Lambda targets and invoke handlers in-process."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from shiftwork import aws
from shiftwork.local.background import guarded, run_loop

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
        run_loop(f"polling {self.queue_url}", self._poll, self._stopping)

    def _poll(self) -> None:
        if not self.poll_once(aws.client("sqs")) and self.wait_seconds == 0:
            self._stopping.wait(0.05)  # short polling: a stop is never kept waiting by a long poll

    def poll_once(self, sqs: Any, wait_seconds: int | None = None) -> int:
        """Receive one batch and hand each message to the handler; a message it fails on is delivered again."""
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        response = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        messages = response.get("Messages", [])
        for message in messages:
            if guarded(f"the handler for {self.queue_url}", partial(self._handle, message)):
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _handle(self, message: dict[str, Any]) -> None:
        self.handler(json.loads(message["Body"]))

    def stop(self) -> None:
        self._stopping.set()
