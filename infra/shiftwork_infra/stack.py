"""ShiftworkStack: composes the constructs, makes the grants, declares the outputs."""

from __future__ import annotations

import json

import aws_cdk as cdk
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge
from shiftwork_infra.api import Api
from shiftwork_infra.dashboard import Dashboard
from shiftwork_infra.dashboard_settings import dashboard_settings
from shiftwork_infra.dispatching import Dispatching
from shiftwork_infra.events import Events
from shiftwork_infra.excel_addin import ExcelAddin
from shiftwork_infra.excel_addin_settings import addin_settings
from shiftwork_infra.functions import Functions
from shiftwork_infra.grants import GRANTS, Granted, grant_excel
from shiftwork_infra.monitoring import Monitoring
from shiftwork_infra.network import Network
from shiftwork_infra.notifications import Notifications
from shiftwork_infra.runner import Runner
from shiftwork_infra.scheduling import Scheduling
from shiftwork_infra.state import State
from shiftwork_infra.storage import Storage


class ShiftworkStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        dashboard = dashboard_settings(self)  # read first: a missing context key is refused before anything is made
        addin = addin_settings(self)
        state = State(self, "State")
        storage = Storage(self, "Storage")
        network = Network(self, "Network")
        data_environment = {
            "SHIFTWORK_JOBS_TABLE": state.jobs.table_name,
            "SHIFTWORK_DEFINITIONS_TABLE": state.definitions.table_name,
            "SHIFTWORK_TASKS_TABLE": state.tasks.table_name,
            "SHIFTWORK_BUCKET": storage.bucket.bucket_name,
            "SHIFTWORK_REGION": self.region,
        }
        runner = Runner(self, "Runner", vpc=network.vpc, environment=data_environment)
        scheduling = Scheduling(self, "Scheduling")
        notifications = Notifications(self, "Notifications")
        dispatch_name = cdk.Fn.join("-", [self.stack_name, "dispatch"])
        subnets = network.vpc.select_subnets(**network.subnets._values).subnet_ids
        functions = Functions(
            self,
            "Functions",
            environment={
                **data_environment,
                "SHIFTWORK_LAUNCHER": "fargate",
                "SHIFTWORK_CLUSTER": runner.cluster.cluster_name,
                "SHIFTWORK_TASK_DEFINITION": runner.task_definition.task_definition_arn,
                "SHIFTWORK_LOG_GROUP": runner.log_group.log_group_name,
                "SHIFTWORK_SUBNETS": self.to_json_string(subnets),
                "SHIFTWORK_SECURITY_GROUPS": self.to_json_string([network.runner_security_group.security_group_id]),
                "SHIFTWORK_RUNNER_KERNELS": json.dumps(runner.kernels),  # checked at submission, not on the Lambda
                "SHIFTWORK_SCHEDULE_GROUP": scheduling.group.ref,
                "SHIFTWORK_SCHEDULER_TARGET_ARN": self.format_arn(
                    service="lambda",
                    resource="function",
                    resource_name=dispatch_name,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                ),
                "SHIFTWORK_SCHEDULER_ROLE_ARN": scheduling.role.role_arn,
                "SHIFTWORK_NOTIFICATIONS_TOPIC_ARN": notifications.topic.topic_arn,
            },
        )
        functions.dispatch.node.default_child.add_property_override("FunctionName", dispatch_name)  # type: ignore[union-attr]
        dispatching = Dispatching(
            self, "Dispatching", dispatch=functions.dispatch, dead_letters=scheduling.dead_letters
        )
        for sender in (functions.complete, functions.api):  # retries; run-now requests (Service.request_dispatch)
            sender.add_environment("SHIFTWORK_DISPATCH_QUEUE_URL", dispatching.queue.queue_url)
        # the workflow tasks' Lambda executor: dispatch and s3_trigger launch a run's roots, complete its dependents;
        # the API shows a run's tasks (and can check a task's memory against the function's at submission)
        for launcher in (functions.dispatch, functions.complete, functions.s3_trigger, functions.api):
            launcher.add_environment("SHIFTWORK_TASK_FUNCTION", functions.task.function_arn)
            launcher.add_environment("SHIFTWORK_TASK_FUNCTION_MEMORY", str(functions.task_memory_mb))
        functions.api.add_environment("SHIFTWORK_TASK_LOG_GROUP", functions.task.log_group.log_group_name)
        Events(
            self,
            "Events",
            bucket=storage.bucket,
            cluster_arn=runner.cluster.cluster_arn,
            s3_trigger=functions.s3_trigger,
            complete=functions.complete,
            task_function=functions.task,
            dead_letters=scheduling.dead_letters,
        )
        api = Api(self, "Api", function=functions.api)
        Monitoring(self, "Monitoring", dead_letters=scheduling.dead_letters, topic=notifications.topic)
        if dashboard is not None:  # -c dashboard=true: the hosted dashboard, off by default
            Dashboard(
                self,
                "Dashboard",
                settings=dashboard,
                vpc=network.vpc,
                service_subnets=network.subnets,
                cluster=runner.cluster,
                api=api.http_api,
                logs_bucket=storage.access_logs,
            )
        excel = None
        if addin is not None:  # -c addin=MODULE: the Excel add-in, off by default
            excel = ExcelAddin(
                self,
                "ExcelAddin",
                settings=addin,
                code=functions.code,
                environment={**data_environment, "SHIFTWORK_DISPATCH_QUEUE_URL": dispatching.queue.queue_url},
                http_api=api.http_api,
                logs_bucket=storage.access_logs,
            )

        # grants: each function only what its handler's code calls, on this stack's resources (grants.py)
        granted = Granted(
            jobs=state.jobs,
            definitions=state.definitions,
            tasks=state.tasks,
            bucket=storage.bucket,
            cluster=runner.cluster,
            task_definition=runner.task_definition,
            runner_logs=runner.log_group,
            task_function_logs=functions.task.log_group,
            schedule_group=scheduling.group,
            scheduler_role=scheduling.role,
            topic=notifications.topic,
            dispatch_queue=dispatching.queue,
            task_function=functions.task,
        )
        for name, grant in GRANTS.items():
            grant(functions.functions[name], granted)
        if excel is not None:
            grant_excel(excel.function, granted)
            data = self.get_logical_id(storage.bucket.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                excel.function,
                f"AwsSolutions-IAM5[Resource::<{data}.Arn>/jobs/*]",
                "CDK grant scoped to this stack's own resource: =SHIFTWORK.RESULT reads a workflow task's JSON "
                "result, under its run's jobs/ prefix, and nothing else of the bucket",
            )
        functions.dispatch.grant_invoke(scheduling.role)
        state.jobs.grant_read_write_data(runner.task_definition.task_role)
        # written: a job's terminal status gives its definition's admission slot back in the same transaction
        state.definitions.grant_read_write_data(runner.task_definition.task_role)
        state.tasks.grant_read_write_data(runner.task_definition.task_role)  # a workflow task's record and result
        storage.bucket.grant_read_write(runner.task_definition.task_role)
        self._acknowledge_grants(state, storage, scheduling, functions, runner)
        self._drop_implied_dependencies()

        cdk.CfnOutput(self, "ApiUrl", value=api.http_api.api_endpoint)
        cdk.CfnOutput(self, "BucketName", value=storage.bucket.bucket_name)
        cdk.CfnOutput(self, "JobsTable", value=state.jobs.table_name)
        cdk.CfnOutput(self, "DefinitionsTable", value=state.definitions.table_name)
        cdk.CfnOutput(self, "TasksTable", value=state.tasks.table_name)
        cdk.CfnOutput(self, "TaskFunction", value=functions.task.function_name)
        cdk.CfnOutput(self, "NotificationsTopic", value=notifications.topic.topic_arn)

    def _drop_implied_dependencies(self) -> None:
        """Each Lambda function references its role (GetAtt Arn), yet CDK also lists the role in DependsOn, which
        cfn-lint flags (W3005). Keep only what the reference does not imply: the role's default policy, so that no
        function runs before its permissions exist."""
        for child in self.node.find_all():
            if not (isinstance(child, cdk.CfnResource) and child.cfn_resource_type == "AWS::Lambda::Function"):
                continue  # CfnFunction, and CDK's own bucket-notifications handler (a plain CfnResource)
            role = child.node.scope.node.try_find_child("ServiceRole") or child.node.scope.node.try_find_child("Role")
            if role is None:
                continue
            policy = role.node.try_find_child("DefaultPolicy")
            if policy is None:
                child.add_deletion_override("DependsOn")
            else:
                child.add_override("DependsOn", [self.get_logical_id(policy.node.default_child)])  # type: ignore[arg-type]

    def _acknowledge_grants(
        self, state: State, storage: Storage, scheduling: Scheduling, functions: Functions, runner: Runner
    ) -> None:
        """The wildcards CDK grants produce, each scoped to a resource of this stack."""

        def logical(construct: Construct) -> str:
            element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
            return self.get_logical_id(element)  # type: ignore[arg-type]

        scoped = "CDK grant scoped to this stack's own resource"
        findings = {
            f"Resource::<{logical(storage.bucket)}.Arn>/*": f"{scoped}: the job files bucket's objects",
            f"Resource::<{logical(state.jobs)}.Arn>/index/*": f"{scoped}: the jobs table's indexes",
            f"Resource::<{logical(state.definitions)}.Arn>/index/*": f"{scoped}: the definitions table's indexes",
            f"Resource::<{logical(storage.bucket)}.Arn>/inbox/*": f"{scoped}: uploads the s3_trigger copies to jobs",
            f"Resource::<{logical(storage.bucket)}.Arn>/jobs/*": f"{scoped}: jobs' inputs, which the s3_trigger writes",
            f"Resource::<{logical(storage.bucket)}.Arn>/definitions/*": (
                f"{scoped}: definitions' code snapshots, whose workflow spec starts and advances a run"
            ),
            "Resource::*": "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource (Lambda active tracing)",
            f"Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<{logical(runner.cluster)}>/*": (
                "Tasks get their ARNs when they start: stopping them (api) and tagging them as RunTask creates them "
                "(ecs:CreateAction RunTask) are scoped to this stack's cluster's tasks"
            ),
            "Action::s3:List*": f"{scoped}: listing job files",
            "Action::s3:GetObject*": f"{scoped}: reading job files",
            "Action::s3:GetBucket*": f"{scoped}: bucket metadata for reads",
            "Action::s3:DeleteObject*": f"{scoped}: deleting a job's files",
            "Action::s3:Abort*": f"{scoped}: aborting uploads",
            "Action::kms:GenerateDataKey*": f"{scoped}: the notifications topic's key",
            f"Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/"
            f"<{logical(scheduling.group)}>/*": "Schedules are created per definition inside this stack's group",
            f"Resource::<{logical(functions.dispatch)}.Arn>:*": "EventBridge Scheduler invokes any version of "
            "the dispatch function",
        }
        for finding, reason in findings.items():
            acknowledge(self, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge(
            self,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The standard minimal policy that lets a Lambda write its own logs.",
        )
