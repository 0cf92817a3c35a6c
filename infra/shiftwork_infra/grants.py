"""What each function may do: only what the code its handler runs calls, each on this stack's own resources.

- dispatch (Scheduler fires, the dispatch queue): jobs, definitions (written by the atomic admission that counts
  a definition's active jobs), ecs:RunTask, re-arming a one-shot schedule (update, or delete when it never fires
  again); it consumes the queue (the event source's grant).
- complete (ECS task stopped, the reconcile rule): jobs, definitions (written: its active count released when a
  job ends, and reconciled), the dispatch queue (a retry, a run-after job), the topic (notifications).
- s3_trigger (S3 Object Created): jobs, definitions (written: a watcher's run is admitted under its active count),
  inbox/ copied to jobs/, ecs:RunTask.
- api (the Service): jobs, definitions, the bucket, the runner's logs, schedules, the dispatch queue (run now),
  ecs:StopTask, subscribing to the topic. It launches nothing itself: run-now goes through the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs


@dataclass(frozen=True)
class Granted:
    """The stack's resources the functions are granted on."""

    jobs: dynamodb.ITable
    definitions: dynamodb.ITable
    bucket: s3.IBucket
    cluster: ecs.ICluster
    task_definition: ecs.TaskDefinition
    runner_logs: logs.ILogGroup
    schedule_group: scheduler.CfnScheduleGroup
    scheduler_role: iam.IRole
    topic: sns.ITopic
    dispatch_queue: sqs.IQueue


def _tasks_arn(granted: Granted) -> str:
    """The ARNs of the tasks this stack's cluster runs."""
    return cdk.Stack.of(granted.cluster).format_arn(
        service="ecs", resource="task", resource_name=f"{granted.cluster.cluster_name}/*"
    )


def _launch(function: lambda_.IFunction, granted: Granted) -> None:
    """RunTask of the runner's task definition (passing its roles), tagging the task it creates."""
    granted.task_definition.grant_run(function)
    function.add_to_role_policy(  # the launcher tags each task with its job id: ECS authorises that on create
        iam.PolicyStatement(
            actions=["ecs:TagResource"],
            resources=[_tasks_arn(granted)],
            conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
        )
    )


def _schedules(function: lambda_.IFunction, granted: Granted, actions: list[str]) -> None:
    """`actions` on the schedules in this stack's group, and passing their target role."""
    arn = cdk.Stack.of(function).format_arn(
        service="scheduler", resource="schedule", resource_name=f"{granted.schedule_group.ref}/*"
    )
    function.add_to_role_policy(iam.PolicyStatement(actions=[f"scheduler:{a}" for a in actions], resources=[arn]))
    granted.scheduler_role.grant_pass_role(function)


def grant_dispatch(function: lambda_.IFunction, granted: Granted) -> None:
    granted.jobs.grant_read_write_data(function)
    granted.definitions.grant_read_write_data(function)
    _launch(function, granted)
    _schedules(function, granted, ["ListSchedules", "UpdateSchedule", "DeleteSchedule"])  # re-arm, or end


def grant_complete(function: lambda_.IFunction, granted: Granted) -> None:
    granted.jobs.grant_read_write_data(function)
    granted.definitions.grant_read_write_data(function)
    granted.dispatch_queue.grant_send_messages(function)
    granted.topic.grant_publish(function)


def grant_s3_trigger(function: lambda_.IFunction, granted: Granted) -> None:
    granted.jobs.grant_read_write_data(function)
    granted.definitions.grant_read_write_data(function)
    granted.bucket.grant_read(function, "inbox/*")  # the uploaded notebook, copied to its job's input
    granted.bucket.grant_put(function, "jobs/*")
    _launch(function, granted)


def grant_api(function: lambda_.IFunction, granted: Granted) -> None:
    granted.jobs.grant_read_write_data(function)
    granted.definitions.grant_read_write_data(function)
    granted.bucket.grant_read_write(function)
    granted.runner_logs.grant_read(function)
    granted.dispatch_queue.grant_send_messages(function)
    _schedules(function, granted, ["ListSchedules", "CreateSchedule", "UpdateSchedule", "DeleteSchedule"])
    function.add_to_role_policy(iam.PolicyStatement(actions=["ecs:StopTask"], resources=[_tasks_arn(granted)]))
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["sns:Subscribe", "sns:ListSubscriptionsByTopic"], resources=[granted.topic.topic_arn]
        )
    )


GRANTS = {"dispatch": grant_dispatch, "complete": grant_complete, "s3_trigger": grant_s3_trigger, "api": grant_api}
