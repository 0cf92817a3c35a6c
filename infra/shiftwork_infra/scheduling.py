"""Scheduling: the EventBridge Scheduler group, the role its schedules invoke the dispatcher with, a DLQ."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge


class Scheduling(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.CfnScheduleGroup(self, "Group")
        self.dead_letters = sqs.Queue(self, "DeadLetters", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)
        acknowledge(self.dead_letters, "AwsSolutions-SQS3", "This is the dead-letter queue itself.")
        self.role = iam.Role(self, "InvokeRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        self.dead_letters.grant_send_messages(self.role)
