"""Notifications: the SNS topic definitions publish job failures and successes to."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class Notifications(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "Key", enable_key_rotation=True)
        self.topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True)
