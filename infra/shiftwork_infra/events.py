"""Events: EventBridge rules for S3 Object Created (the bucket), ECS task STOPPED (the cluster), the task function's
invocation results (its destinations), and a periodic reconciliation of the definitions' active-job counts (the
complete function, on a "Scheduled Event")."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

RECONCILE_EVERY = cdk.Duration.minutes(15)
# what Lambda puts on the event bus for an asynchronous invocation's destination (source "lambda")
INVOCATION_RESULTS = ["Lambda Function Invocation Result - Success", "Lambda Function Invocation Result - Failure"]


class Events(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        cluster_arn: str,
        s3_trigger: lambda_.IFunction,
        complete: lambda_.IFunction,
        task_function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.object_created = events.Rule(
            self,
            "ObjectCreated",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": [{"anything-but": {"prefix": "jobs/"}}]},
                },
            ),
            targets=[targets.LambdaFunction(s3_trigger, dead_letter_queue=dead_letters, retry_attempts=8)],
        )
        self.task_stopped = events.Rule(
            self,
            "TaskStopped",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={"clusterArn": [cluster_arn], "lastStatus": ["STOPPED"]},
            ),
            targets=[targets.LambdaFunction(complete, dead_letter_queue=dead_letters, retry_attempts=8)],
        )
        self.task_finished = events.Rule(
            self,
            "TaskFunctionFinished",
            event_pattern=events.EventPattern(
                source=["lambda"],
                detail_type=INVOCATION_RESULTS,
                # the invocation record names the function qualified: ...:function:NAME:$LATEST
                detail={"requestContext": {"functionArn": events.Match.prefix(f"{task_function.function_arn}:")}},
            ),
            targets=[targets.LambdaFunction(complete, dead_letter_queue=dead_letters, retry_attempts=8)],
        )
        self.reconcile = events.Rule(
            self,
            "Reconcile",
            description="Recount each definition's queued and running jobs, in case a count ever drifted",
            schedule=events.Schedule.rate(RECONCILE_EVERY),
            targets=[targets.LambdaFunction(complete, dead_letter_queue=dead_letters, retry_attempts=2)],
        )
