"""Monitoring: alarms on dead-letter depth and on failed jobs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, dead_letters: sqs.IQueue, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_depth = cloudwatch.Alarm(
            self,
            "DeadLetters",
            metric=dead_letters.metric_approximate_number_of_messages_visible(period=cdk.Duration.minutes(5)),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            alarm_description="Events, schedule fires or dispatch requests that could not be delivered",
        )
        self.failed_jobs = cloudwatch.Alarm(
            self,
            "FailedJobs",
            metric=cloudwatch.Metric(
                namespace="Shiftwork",
                metric_name="JobsFailed",
                statistic="Sum",
                period=cdk.Duration.minutes(5),
                dimensions_map={"service": "complete"},
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="Jobs whose runner died before reporting",
        )
        for alarm in (self.dead_letter_depth, self.failed_jobs):
            alarm.add_alarm_action(actions.SnsAction(topic))
