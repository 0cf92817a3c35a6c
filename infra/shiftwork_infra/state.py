"""State: the DynamoDB tables (point-in-time recovery, encryption) with the indexes the library queries.

jobs (a run is a job), definitions, and tasks: one item per task of a workflow run, keyed by the run's job id and
the task's id, so that a run's tasks are one Query.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

S = dynamodb.AttributeType.STRING
N = dynamodb.AttributeType.NUMBER


def _table(scope: Construct, name: str, key: str, sort_key: str | None = None) -> dynamodb.Table:
    return dynamodb.Table(
        scope,
        name,
        partition_key=dynamodb.Attribute(name=key, type=S),
        sort_key=dynamodb.Attribute(name=sort_key, type=S) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


class State(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.jobs = _table(self, "Jobs", "job_id")
        for index, hash_key in (
            ("by-create-time", "list_pk"),
            ("by-status", "status"),
            ("by-definition", "job_definition_id"),
        ):
            self.jobs.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=hash_key, type=S),
                sort_key=dynamodb.Attribute(name="create_time", type=N),
            )
        self.definitions = _table(self, "Definitions", "job_definition_id")
        self.definitions.add_global_secondary_index(
            index_name="by-create-time",
            partition_key=dynamodb.Attribute(name="list_pk", type=S),
            sort_key=dynamodb.Attribute(name="create_time", type=N),
        )
        self.tasks = _table(self, "Tasks", "job_id", sort_key="task_id")  # store/tables.py TaskRecord
