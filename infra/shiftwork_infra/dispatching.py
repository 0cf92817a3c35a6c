"""Dispatching: the SQS queue in front of the dispatch function (run-now requests; retries, delayed by their backoff).

The embedded stack has the same queue in front of the same handler, so a retry's DelaySeconds is its backoff in
both. The queue's dead letters go to the stack's dead-letter queue, whose depth raises an alarm.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

MAX_RECEIVES = 5  # then a request goes to the dead letters, as in the embedded stack
BATCH_SIZE = 10


class Dispatching(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, dispatch: lambda_.Function, dead_letters: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = dispatch.timeout.to_seconds() if dispatch.timeout else 3
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Lambda's advice: six times the function's timeout, so a batch in progress is not delivered twice
            visibility_timeout=cdk.Duration.seconds(6 * timeout),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVES),
        )
        self.source = sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        dispatch.add_event_source(self.source)
