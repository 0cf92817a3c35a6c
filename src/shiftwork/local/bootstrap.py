"""Create, idempotently, the resources the AWS stack has, on the embedded stack's moto server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import CONTAINER_NAME, LOG_STREAM_PREFIX
from shiftwork.store import create_tables

if TYPE_CHECKING:
    from shiftwork.config import Settings

DISPATCH_QUEUE = "shiftwork-dispatch"  # stands in for invoking the dispatch Lambda
EVENTS_QUEUE = "shiftwork-events"  # stands in for the completion and S3-trigger Lambdas behind EventBridge rules
NOTIFICATIONS_TOPIC = "shiftwork-notifications"
MAX_RECEIVES = 5  # then the message goes to the dead-letter queue


@dataclass(frozen=True)
class Resources:
    dispatch_queue_url: str = ""
    events_queue_url: str = ""


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    dead_letter = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dead_letter_arn["Attributes"]["QueueArn"], "maxReceiveCount": MAX_RECEIVES}
    url = sqs.create_queue(
        QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "60"}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _network(settings: Settings) -> tuple[list[str], list[str]]:
    ec2 = aws.client("ec2", settings)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's ECS needs the DNS name
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="shiftwork-runner", Description="runner tasks", VpcId=vpc)
    return [subnet], [group["GroupId"]]


def bootstrap_storage(settings: Settings) -> None:
    """What every command needs: the tables, the bucket, the log group and the schedule group."""
    create_tables(settings)
    s3 = aws.client("s3", settings)
    s3.create_bucket(Bucket=settings.bucket)
    logs = aws.client("logs", settings)
    if not logs.describe_log_groups(logGroupNamePrefix=settings.log_group)["logGroups"]:
        logs.create_log_group(logGroupName=settings.log_group)
    scheduler = aws.client("scheduler", settings)
    if not scheduler.list_schedule_groups(NamePrefix=settings.schedule_group).get("ScheduleGroups"):
        scheduler.create_schedule_group(Name=settings.schedule_group)


def enable_bucket_events(settings: Settings) -> None:
    """S3 -> EventBridge notifications; on only after a restart's replay, which must not re-trigger uploads."""
    aws.client("s3", settings).put_bucket_notification_configuration(
        Bucket=settings.bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )


def bootstrap_queues(settings: Settings) -> Resources:
    """The SQS queues standing in for Lambda targets, and the EventBridge rules that feed them."""
    sqs = aws.client("sqs", settings)
    dispatch_url, _ = _queue(sqs, DISPATCH_QUEUE)
    events_url, events_arn = _queue(sqs, EVENTS_QUEUE)
    account = events_arn.split(":")[4]
    cluster_arn = f"arn:aws:ecs:{settings.region}:{account}:cluster/{settings.cluster}"
    rules = {
        "shiftwork-task-stopped": {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {"clusterArn": [cluster_arn], "lastStatus": ["STOPPED"]},
        },
        "shiftwork-object-created": {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [settings.bucket]}},
        },
    }
    aws.client("sns", settings).create_topic(Name=NOTIFICATIONS_TOPIC)
    events = aws.client("events", settings)
    for name, pattern in rules.items():
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=name, Targets=[{"Id": "local-queue", "Arn": events_arn}])
    return Resources(dispatch_url, events_url)


def bootstrap_ecs(settings: Settings) -> tuple[list[str], list[str]]:
    """A VPC, the ECS cluster and the Fargate task definition; returns (subnets, security groups).

    Separate because moto's ECS loads its EC2 backend, over a second that only launching a task needs.
    """
    subnets, security_groups = _network(settings)
    ecs = aws.client("ecs", settings)
    ecs.create_cluster(clusterName=settings.cluster)
    ecs.register_task_definition(
        family=settings.task_definition,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="2048",
        containerDefinitions=[
            {
                "name": CONTAINER_NAME,
                "image": "shiftwork-runner:local",
                "essential": True,
                "memory": 2048,
                "command": ["python", "-m", "shiftwork.runner"],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": settings.log_group,
                        "awslogs-region": settings.region,
                        "awslogs-stream-prefix": LOG_STREAM_PREFIX,
                    },
                },
            }
        ],
    )
    return subnets, security_groups
