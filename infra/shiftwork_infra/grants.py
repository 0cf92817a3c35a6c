"""What each function may do: only what the code its handler runs calls, each on this stack's own resources.

- dispatch (Scheduler fires, the dispatch queue): jobs, definitions (written by the atomic admission that counts
  a definition's active jobs), tasks (a workflow run's records, made as it is admitted), launching (ecs:RunTask of
  the runner, invoking the task function: a run's roots), re-arming a one-shot schedule (update, or delete when it
  never fires again); it consumes the queue (the event source's grant).
- complete (ECS task stopped, the reconcile rule): jobs, definitions (written: its active count released when a
  job ends, and reconciled), tasks (a task settled, its dependents' pending counts), launching (a run's
  dependents, on Fargate or the task function), the dispatch queue (a retry, a run-after job), the topic
  (notifications).
- s3_trigger (S3 Object Created): jobs, definitions (written: a watcher's run is admitted under its active count),
  tasks (a watched workflow's run gets its records as it is admitted), inbox/ copied to jobs/, launching (it
  dispatches what it admits, as dispatch does: a run's roots).
- api (the Service): jobs, definitions, tasks (a run's details; stopping a run settles its tasks), the bucket, the
  runner's and the task function's logs, schedules, the dispatch queue (run now), ecs:StopTask, subscribing to the
  topic. It launches nothing itself: run-now (and a rerun) goes through the queue, so no lambda:InvokeFunction.
- task (the workflow tasks' Lambda executor, invoked by dispatch, complete and s3_trigger): jobs, definitions,
  tasks (its task's record), the bucket read (the run's code snapshot, under its job's or its definition version's
  input, and upstream results) and jobs/ written (its result, under its run); its own logs (the basic execution
  role every function has); the default event bus (its destinations). It launches nothing: its invocation's
  outcome goes to complete, which advances the run.
- excel (the Excel add-in's function, with -c addin; granted by the stack apart, as it exists only then): what its
  SHIFTWORK.* built-ins call (grant_excel); the user's own module's functions get nothing more.

ecs:RunTask's cpu and memory overrides (per task, on the task and its container) and its command override need no
permission beyond ecs:RunTask on the task definition; only a taskRoleArn or executionRoleArn override would need
iam:PassRole on that other role, and the launcher overrides neither (the PassRole granted is for the runner's own).
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
    tasks: dynamodb.ITable
    bucket: s3.IBucket
    cluster: ecs.ICluster
    task_definition: ecs.TaskDefinition
    runner_logs: logs.ILogGroup
    task_function_logs: logs.ILogGroup
    schedule_group: scheduler.CfnScheduleGroup
    scheduler_role: iam.IRole
    topic: sns.ITopic
    dispatch_queue: sqs.IQueue
    task_function: lambda_.IFunction


def _tasks_arn(granted: Granted) -> str:
    """The ARNs of the tasks this stack's cluster runs."""
    return cdk.Stack.of(granted.cluster).format_arn(
        service="ecs", resource="task", resource_name=f"{granted.cluster.cluster_name}/*"
    )


def _invoke_task_function(function: lambda_.IFunction, granted: Granted) -> None:
    """lambda:InvokeFunction on the task function (unqualified: no version or alias is ever published)."""
    function.add_to_role_policy(
        iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[granted.task_function.function_arn])
    )


def _launch(function: lambda_.IFunction, granted: Granted) -> None:
    """RunTask of the runner's task definition (passing its roles), tagging the task it creates; invoking the task
    function (a workflow task whose executor is "lambda")."""
    granted.task_definition.grant_run(function)
    _invoke_task_function(function, granted)
    function.add_to_role_policy(  # the launcher tags each task with its job id: ECS authorises that on create
        iam.PolicyStatement(
            actions=["ecs:TagResource"],
            resources=[_tasks_arn(granted)],
            conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
        )
    )


def _state(function: lambda_.IFunction, granted: Granted) -> None:
    """Read and write the jobs, definitions and tasks tables: every handler's records."""
    for table in (granted.jobs, granted.definitions, granted.tasks):
        table.grant_read_write_data(function)


def _schedules(function: lambda_.IFunction, granted: Granted, actions: list[str]) -> None:
    """`actions` on the schedules in this stack's group, and passing their target role."""
    arn = cdk.Stack.of(function).format_arn(
        service="scheduler", resource="schedule", resource_name=f"{granted.schedule_group.ref}/*"
    )
    function.add_to_role_policy(iam.PolicyStatement(actions=[f"scheduler:{a}" for a in actions], resources=[arn]))
    granted.scheduler_role.grant_pass_role(function)


def _runs(function: lambda_.IFunction, granted: Granted) -> None:
    """What advancing a workflow run reads and writes in the bucket: the run's spec in its code snapshot (under
    jobs/ or definitions/), and a rerun's reused results, copied under the new run."""
    granted.bucket.grant_read(function, "jobs/*")
    granted.bucket.grant_read(function, "definitions/*")
    granted.bucket.grant_put(function, "jobs/*")


def grant_dispatch(function: lambda_.IFunction, granted: Granted) -> None:
    _state(function, granted)
    _launch(function, granted)
    _runs(function, granted)
    _schedules(function, granted, ["ListSchedules", "UpdateSchedule", "DeleteSchedule"])  # re-arm, or end


def grant_complete(function: lambda_.IFunction, granted: Granted) -> None:
    _state(function, granted)
    _launch(function, granted)
    _runs(function, granted)
    granted.dispatch_queue.grant_send_messages(function)
    granted.topic.grant_publish(function)


def grant_s3_trigger(function: lambda_.IFunction, granted: Granted) -> None:
    _state(function, granted)
    granted.bucket.grant_read(function, "inbox/*")  # the uploaded notebook, copied to its job's input
    granted.bucket.grant_read(function, "definitions/*")  # a watched workflow's spec, read to start its run
    granted.bucket.grant_put(function, "jobs/*")
    _launch(function, granted)


def grant_api(function: lambda_.IFunction, granted: Granted) -> None:
    _state(function, granted)
    granted.bucket.grant_read_write(function)
    granted.runner_logs.grant_read(function)
    granted.task_function_logs.grant_read(function)  # a Lambda task's logs, as `runs logs RUN --task` shows them
    granted.dispatch_queue.grant_send_messages(function)
    _schedules(function, granted, ["ListSchedules", "CreateSchedule", "UpdateSchedule", "DeleteSchedule"])
    function.add_to_role_policy(iam.PolicyStatement(actions=["ecs:StopTask"], resources=[_tasks_arn(granted)]))
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["sns:Subscribe", "sns:ListSubscriptionsByTopic"], resources=[granted.topic.topic_arn]
        )
    )


def grant_task(function: lambda_.IFunction, granted: Granted) -> None:
    _state(function, granted)
    granted.bucket.grant_read(function)  # code snapshots live under definitions/ as well as jobs/
    granted.bucket.grant_put(function, "jobs/*")  # jobs/<run>/tasks/<task>/result.*
    granted.runner_logs.grant_write(function)  # each task's output in its own stream, beside the containers'


def grant_excel(function: lambda_.IFunction, granted: Granted) -> None:
    """The Excel add-in's SHIFTWORK.* built-ins, through the Service: RUN records a definition's job under its
    admission slot (jobs and definitions written) and hands it to the dispatch queue; STATUS and JOBS read jobs;
    RESULT reads a run's task records and their JSON results under jobs/. It launches and schedules nothing."""
    granted.jobs.grant_read_write_data(function)
    granted.definitions.grant_read_write_data(function)  # the definition's active-jobs count, in the job's transaction
    granted.tasks.grant_read_data(function)
    granted.bucket.grant_read(function, "jobs/*")
    granted.dispatch_queue.grant_send_messages(function)


GRANTS = {
    "dispatch": grant_dispatch,
    "complete": grant_complete,
    "s3_trigger": grant_s3_trigger,
    "api": grant_api,
    "task": grant_task,
}
