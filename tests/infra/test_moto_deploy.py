"""The synthesised template deployed into moto's CloudFormation (every resource type moto can create), what it made
checked for use (task definition, functions and their settings, event rules), and the handlers then working
against the tables, bucket, cluster and network CloudFormation made, configured as the deployed functions are."""

from __future__ import annotations

import io
import json
import os
import re
import time
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers import load_event, write_notebook
from tests.infra.test_stack import ROOT

# what moto's CloudFormation (moto 5.2) creates from this template
SUPPORTED = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Events::Rule",
        "AWS::ECS::Cluster",
        "AWS::ECS::TaskDefinition",
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::Route",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::EIP",
        "AWS::EC2::NatGateway",
        "AWS::EC2::FlowLog",
        "AWS::EC2::SecurityGroup",
    }
)
NO_MODEL = "moto has no CloudFormation model for it: it skips the resource with a warning"
UNSUPPORTED = {
    "AWS::ApiGatewayV2::Api": NO_MODEL,
    "AWS::ApiGatewayV2::Integration": NO_MODEL,
    "AWS::ApiGatewayV2::Route": NO_MODEL,
    "AWS::ApiGatewayV2::Stage": NO_MODEL,
    "AWS::CloudWatch::Alarm": NO_MODEL,
    "AWS::S3::BucketPolicy": NO_MODEL,
    "AWS::SNS::TopicPolicy": NO_MODEL,
    "AWS::SQS::QueuePolicy": NO_MODEL,
    "AWS::Scheduler::ScheduleGroup": NO_MODEL,
    "Custom::S3BucketNotifications": "moto runs the custom resource's Lambda in Docker; without Docker the stack "
    "stays CREATE_IN_PROGRESS",
}
PSEUDO_PARAMETERS = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix"}
HANDLERS = ("dispatch", "complete", "s3_trigger", "api")
ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's
_PRUNED = object()


def _references(value: object) -> set[str]:
    if isinstance(value, dict):
        found = set()
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= _references(item)
        return found
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def _prune(value: Any, kept: set[str], *, is_map: bool = False) -> Any:
    """`value` without what points at a resource not kept, or _PRUNED when that leaves it incomplete.

    An intrinsic function is kept or dropped whole; a list loses the items that point away (and goes when none
    is left, e.g. a policy statement's resources); a map (Properties, Environment.Variables) loses the keys; any
    other object (a policy statement, a target) goes whole when one of its keys would.
    """
    if isinstance(value, dict):
        [first, *_] = value or [""]
        if len(value) == 1 and (first == "Ref" or first.startswith("Fn::")):
            return _PRUNED if _references(value) - kept - PSEUDO_PARAMETERS else value
        pruned = {}
        for key, item in value.items():
            result = _prune(item, kept, is_map=key == "Variables")
            if result is _PRUNED:
                if not is_map:
                    return _PRUNED
                continue
            pruned[key] = result
        return pruned
    if isinstance(value, list):
        pruned_items = [result for result in (_prune(item, kept) for item in value) if result is not _PRUNED]
        return _PRUNED if value and not pruned_items else pruned_items
    return value


def _deployable(template: dict) -> dict:
    """The resources moto's CloudFormation supports, minus what points at ones it does not."""
    kept = {name: dict(r) for name, r in template["Resources"].items() if r["Type"] in SUPPORTED}
    for resource in kept.values():
        resource.pop("DependsOn", None)
        resource["Properties"] = _prune(resource.get("Properties", {}), set(kept), is_map=True)
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            # moto's run_task adds up container memory, which Fargate does not need: give the task's to its container
            for container in resource["Properties"]["ContainerDefinitions"]:
                container.setdefault("Memory", int(resource["Properties"]["Memory"]))
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": kept}


def _substitute(text: str) -> str:
    """An Fn::Sub string with the pseudo parameters CDK puts in asset locations filled in."""
    values = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::URLSuffix": "amazonaws.com"}
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


def _upload_function_code(template: dict) -> None:
    """What `cdk deploy` publishes first: the functions' code, in the CDK bootstrap bucket, at the template's key."""
    from shiftwork import aws

    s3 = aws.client("s3")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for handler in (ROOT / "functions").glob("*.py"):
            zipped.write(handler, f"functions/{handler.name}")
    for resource in template["Resources"].values():
        code = resource["Properties"].get("Code", {}) if resource["Type"] == "AWS::Lambda::Function" else {}
        if "S3Key" not in code:
            continue  # inline code (CDK's bucket-notifications handler)
        bucket = _substitute(code["S3Bucket"]["Fn::Sub"])
        s3.create_bucket(Bucket=bucket)  # moto: creating a bucket we already own is fine in us-east-1
        s3.put_object(Bucket=bucket, Key=code["S3Key"], Body=archive.getvalue())


@dataclass(frozen=True)
class Deployed:
    stack_name: str
    physical: dict[str, str]  # logical id -> physical id
    template: dict

    def logical_ids(self, kind: str) -> list[str]:
        return [n for n, r in self.template["Resources"].items() if r["Type"] == kind and n in self.physical]

    def one(self, kind: str, *, key: str | None = None, has: str | None = None, lacks: str | None = None) -> str:
        """The physical id of the deployed `kind` whose hash key is `key` / whose properties have `has`, not `lacks`."""
        for name in self.logical_ids(kind):
            properties = self.template["Resources"][name]["Properties"]
            if key is not None and properties["KeySchema"][0]["AttributeName"] != key:
                continue
            if (has is not None and has not in properties) or (lacks is not None and lacks in properties):
                continue
            return self.physical[name]
        raise AssertionError(f"no {kind} {key or has or lacks or ''} deployed")

    def function(self, handler: str) -> str:
        for name in self.logical_ids("AWS::Lambda::Function"):
            if self.template["Resources"][name]["Properties"].get("Handler") == f"functions.{handler}.lambda_handler":
                return self.physical[name]
        raise AssertionError(f"no function for functions.{handler} deployed")

    def rule(self, source: str | None = None, *, schedule: str | None = None) -> str:
        """The deployed rule for events from `source`, or the one on `schedule` (a rate or cron expression)."""
        for name in self.logical_ids("AWS::Events::Rule"):
            properties = self.template["Resources"][name]["Properties"]
            if source and properties.get("EventPattern", {}).get("source") == [source]:
                return self.physical[name]
            if schedule and properties.get("ScheduleExpression") == schedule:
                return self.physical[name]
        raise AssertionError(f"no rule for {source or schedule} deployed")


@pytest.fixture(scope="module")
def deployed(stack, synthesized):
    from shiftwork import aws
    from shiftwork.config import get_settings

    assert aws.client("sts").get_caller_identity()["Account"] == ACCOUNT and get_settings().region == REGION
    template = json.loads(synthesized[1])
    _upload_function_code(template)
    cloudformation = aws.client("cloudformation")
    name = f"shiftwork-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(
        StackName=name, TemplateBody=json.dumps(_deployable(template)), Capabilities=["CAPABILITY_IAM"]
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status != "CREATE_IN_PROGRESS":
            break
        time.sleep(0.2)
    assert status == "CREATE_COMPLETE"
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    # (moto gives a Lambda::Permission no physical id)
    return Deployed(name, {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources}, template)


def test_every_template_type_is_deployed_or_known_to_be_beyond_moto(deployed):
    import moto.cloudformation.parsing

    kinds = {r["Type"] for r in deployed.template["Resources"].values()}
    assert kinds - SUPPORTED - set(UNSUPPORTED) == set(), "a new resource type: try it in moto, then file it"
    made = {deployed.template["Resources"][name]["Type"] for name in deployed.physical}
    assert made == kinds & SUPPORTED
    newly_supported = set(UNSUPPORTED) & set(moto.cloudformation.parsing.get_model_map())
    assert newly_supported == set(), "moto's CloudFormation creates these now: move them to SUPPORTED"


def _function_settings(deployed: Deployed, handler: str) -> tuple[dict[str, Any], dict[str, str]]:
    from shiftwork import aws

    configuration = aws.client("lambda").get_function(FunctionName=deployed.function(handler))["Configuration"]
    return configuration, configuration["Environment"]["Variables"]


def test_the_runner_task_definition_has_the_image_command_memory_logs_and_settings(deployed):
    from shiftwork import aws
    from shiftwork.config import Settings

    arn = deployed.one("AWS::ECS::TaskDefinition")
    definition = aws.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
    [container] = definition["containerDefinitions"]
    [logical_id] = deployed.logical_ids("AWS::ECS::TaskDefinition")
    [template_container] = deployed.template["Resources"][logical_id]["Properties"]["ContainerDefinitions"]
    # the image cdk deploy pushes to the bootstrap repository
    assert container["image"] == _substitute(template_container["Image"]["Fn::Sub"])
    assert container["image"].startswith(f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cdk-hnb659fds-container-assets-")
    assert container["command"] == ["python", "-m", "shiftwork.runner"]
    assert definition["memory"] == "4096"
    runner = Settings(environ={e["name"]: e["value"] for e in container["environment"]})
    assert runner.jobs_table == deployed.one("AWS::DynamoDB::Table", key="job_id")
    assert runner.definitions_table == deployed.one("AWS::DynamoDB::Table", key="job_definition_id")
    assert runner.bucket == deployed.one("AWS::S3::Bucket", has="LoggingConfiguration")
    assert runner.region == REGION
    # what the functions launch and read logs from is this task definition, its container and its log group
    _, variables = _function_settings(deployed, "dispatch")
    functions = Settings(environ=variables)
    assert functions.task_definition == definition["taskDefinitionArn"]
    assert functions.container_name == container["name"] == "runner"
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["logConfiguration"]["options"]["awslogs-group"] == functions.log_group
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=functions.log_group)["logGroups"]
    assert [g["retentionInDays"] for g in groups if g["logGroupName"] == functions.log_group] == [90]


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_function_has_its_handler_runtime_and_settings_naming_the_deployed_resources(deployed, handler):
    from shiftwork import aws
    from shiftwork.config import Settings

    configuration, variables = _function_settings(deployed, handler)
    assert configuration["Handler"] == f"functions.{handler}.lambda_handler"
    assert configuration["Runtime"] == "python3.12"  # (moto's CloudFormation drops Architectures: see test_stack)
    assert (configuration["MemorySize"], configuration["Timeout"]) == (512, 30)
    assert variables["POWERTOOLS_SERVICE_NAME"] == f"shiftwork-{handler}"
    settings = Settings(environ=variables)  # what the handler reads, parsed as it parses it
    assert settings.launcher == "fargate" and settings.endpoint_url is None and settings.region == REGION
    assert settings.jobs_table == deployed.one("AWS::DynamoDB::Table", key="job_id")
    assert settings.definitions_table == deployed.one("AWS::DynamoDB::Table", key="job_definition_id")
    assert settings.bucket == deployed.one("AWS::S3::Bucket", has="LoggingConfiguration")
    assert settings.cluster == deployed.one("AWS::ECS::Cluster")
    assert settings.task_definition == deployed.one("AWS::ECS::TaskDefinition")
    assert settings.notifications_topic_arn == deployed.one("AWS::SNS::Topic")
    # the API checks a job's kernel against the runner image's, which the Dockerfile installs
    assert settings.runner_kernels == re.findall(r"ipykernel install .*--name (\S+)", (ROOT / "Dockerfile").read_text())
    ec2 = aws.client("ec2")
    [vpc] = [deployed.physical[n] for n in deployed.logical_ids("AWS::EC2::VPC")]
    subnets = ec2.describe_subnets(SubnetIds=settings.subnets)["Subnets"]
    assert len(subnets) == 2 and {s["VpcId"] for s in subnets} == {vpc}
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)  # the runners' private subnets
    [group] = ec2.describe_security_groups(GroupIds=settings.security_groups)["SecurityGroups"]
    assert group["VpcId"] == vpc and group["IpPermissions"] == []  # no inbound
    role = settings.scheduler_role_arn.rsplit("/", 1)[-1]
    assert aws.client("iam").get_role(RoleName=role)["Role"]["Arn"] == settings.scheduler_role_arn
    # EventBridge Scheduler targets the dispatch function by the name the stack gives it
    dispatch = aws.client("lambda").get_function(FunctionName=deployed.function("dispatch"))["Configuration"]
    assert settings.scheduler_target_arn == dispatch["FunctionArn"]
    # the dispatch queue: known to the functions that send to it (complete: retries; api: run-now requests)
    dispatch_queue = deployed.one("AWS::SQS::Queue", has="RedrivePolicy")
    assert settings.dispatch_queue_url == (dispatch_queue if handler in ("complete", "api") else None)
    # its role lets it do its work on these resources, and no more: the grants resolved to what was deployed
    _assert_allowed(deployed, handler, settings, _allowed(configuration["Role"].rsplit("/", 1)[-1]))


def _assert_allowed(deployed: Deployed, handler: str, settings: Any, allowed: dict[str, set[str]]) -> None:
    from shiftwork import aws

    jobs_arn = aws.client("dynamodb").describe_table(TableName=settings.jobs_table)["Table"]["TableArn"]
    queue_url = deployed.one("AWS::SQS::Queue", has="RedrivePolicy")
    queue_arn = aws.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    queue_arn = queue_arn["Attributes"]["QueueArn"]
    assert jobs_arn in allowed["dynamodb:UpdateItem"] and f"{jobs_arn}/index/*" in allowed["dynamodb:Query"]
    bucket = f"arn:aws:s3:::{settings.bucket}"
    expected = {
        "dispatch": {"ecs:RunTask": {settings.task_definition}, "sqs:DeleteMessage": {queue_arn}},
        "complete": {"sqs:SendMessage": {queue_arn}, "sns:Publish": {settings.notifications_topic_arn}},
        "s3_trigger": {
            "ecs:RunTask": {settings.task_definition},
            "s3:PutObject": {f"{bucket}/jobs/*"},
        },
        "api": {"sqs:SendMessage": {queue_arn}, "s3:DeleteObject*": {bucket, f"{bucket}/*"}},
    }[handler]
    assert {action: allowed.get(action) for action in expected} == expected
    launches = handler in ("dispatch", "s3_trigger")
    assert ("ecs:RunTask" in allowed) == launches and ("sns:Publish" in allowed) == (handler == "complete")
    if handler in ("dispatch", "api"):  # schedules: the API writes them, the dispatcher re-arms them
        assert settings.scheduler_role_arn in allowed["iam:PassRole"]
    else:
        assert "scheduler:UpdateSchedule" not in allowed


def _allowed(role: str) -> dict[str, set[str]]:
    """action -> the resources a role's inline policies allow it on."""
    from shiftwork import aws

    iam = aws.client("iam")
    allowed: dict[str, set[str]] = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for statement in document["Statement"]:
            actions, resources = statement["Action"], statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                allowed.setdefault(action, set()).update([resources] if isinstance(resources, str) else resources)
    return allowed


def test_the_event_rules_send_uploads_and_stopped_tasks_to_their_functions(deployed):
    from shiftwork import aws

    events, sqs = aws.client("events"), aws.client("sqs")
    bucket = deployed.one("AWS::S3::Bucket", has="LoggingConfiguration")
    cluster_arn = aws.client("ecs").describe_clusters(clusters=[deployed.one("AWS::ECS::Cluster")])["clusters"][0][
        "clusterArn"
    ]
    dead_letters = sqs.get_queue_attributes(
        QueueUrl=deployed.one("AWS::SQS::Queue", lacks="RedrivePolicy"), AttributeNames=["QueueArn"]
    )
    rules = {"s3_trigger": deployed.rule("aws.s3"), "complete": deployed.rule("aws.ecs")}
    for handler, rule in rules.items():
        [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
        function = aws.client("lambda").get_function(FunctionName=deployed.function(handler))["Configuration"]
        assert target["Arn"] == function["FunctionArn"]
        assert target["DeadLetterConfig"]["Arn"] == dead_letters["Attributes"]["QueueArn"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
        policy = json.loads(aws.client("lambda").get_policy(FunctionName=function["FunctionName"])["Policy"])
        rule_arn = events.describe_rule(Name=rule)["Arn"]
        assert any(
            s["Principal"] == {"Service": "events.amazonaws.com"}
            and s["Condition"]["ArnLike"]["AWS:SourceArn"] == rule_arn
            for s in policy["Statement"]
        )

    # the rules' patterns, tried by moto's EventBridge. It cannot deliver to a Lambda target (put_events fails
    # with NotImplementedError when such a rule matches), so each deployed pattern is copied into a rule on a
    # probe bus whose target is a queue
    bus = events.create_event_bus(Name=f"probe-{uuid.uuid4().hex[:8]}")["EventBusArn"].rsplit("/", 1)[-1]
    probe = sqs.create_queue(QueueName=bus)["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        for handler, rule in rules.items():
            pattern = events.describe_rule(Name=rule)["EventPattern"]
            events.put_rule(Name=handler, EventBusName=bus, EventPattern=pattern)
            events.put_targets(Rule=handler, EventBusName=bus, Targets=[{"Id": "probe", "Arn": probe_arn}])
        upload = load_event("s3_object_created.json", bucket=bucket, key="inbox/a.ipynb", sequencer="01")
        stopped = load_event("ecs_task_state_change_stopped.json", job_id=str(uuid.uuid4()), task_arn="t")
        stopped["detail"]["clusterArn"] = cluster_arn
        cases = {
            "an upload to the inbox": (upload, True),
            "a job's own output": (_with(upload, "object", key="jobs/x/output/a.ipynb"), False),
            "an upload to another bucket": (_with(upload, "bucket", name="elsewhere"), False),
            "a task stopped in the cluster": (stopped, True),
            "a task still running": (_with(stopped, None, lastStatus="RUNNING"), False),
            "another cluster's task": (_with(stopped, None, clusterArn=cluster_arn + "-other"), False),
        }
        for case, (event, expected) in cases.items():
            entry = {
                "EventBusName": bus,
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
            assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
            received = sqs.receive_message(QueueUrl=probe, MaxNumberOfMessages=10).get("Messages", [])
            for message in received:
                sqs.delete_message(QueueUrl=probe, ReceiptHandle=message["ReceiptHandle"])
            assert len(received) == int(expected), case
    finally:
        for handler in rules:
            events.remove_targets(Rule=handler, EventBusName=bus, Ids=["probe"])
            events.delete_rule(Name=handler, EventBusName=bus)
        events.delete_event_bus(Name=bus)
        sqs.delete_queue(QueueUrl=probe)


def _with(event: dict, part: str | None, **changes: str) -> dict:
    """A copy of `event` with detail[part] (or detail itself) changed."""
    copied = json.loads(json.dumps(event))
    (copied["detail"][part] if part else copied["detail"]).update(changes)
    return copied


def test_handlers_work_configured_as_the_deployed_functions(stack, deployed, monkeypatch, tmp_path):
    from shiftwork import aws
    from shiftwork.config import get_settings
    from shiftwork.launchers import FargateLauncher, use_launcher
    from shiftwork.local.lambdas import invoke
    from shiftwork.models import DescribeJob, Status
    from shiftwork.store import files, jobs

    jobs_table = deployed.one("AWS::DynamoDB::Table", key="job_id")
    bucket = deployed.one("AWS::S3::Bucket", has="LoggingConfiguration")
    indexes = aws.client("dynamodb").describe_table(TableName=jobs_table)["Table"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"] for i in indexes} == {"by-create-time", "by-status", "by-definition"}

    _, variables = _function_settings(deployed, "s3_trigger")
    for name, value in variables.items():
        if name.startswith("SHIFTWORK_"):
            monkeypatch.setenv(name, value)  # the endpoint (moto) stays: the deployed functions have none
    get_settings.cache_clear()
    use_launcher(FargateLauncher())
    try:
        # complete: a job whose task died, in the deployed jobs table
        job_id = str(uuid.uuid4())
        now = jobs.now_ms()
        task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{get_settings().cluster}/cfn"
        jobs.put_new(
            DescribeJob(
                job_id=job_id,
                name="cfn",
                status=Status.IN_PROGRESS,
                input_filename="x.ipynb",
                create_time=now,
                update_time=now,
                output_prefix=files.output_prefix(job_id),
                task_arn=task_arn,
            )
        )
        failed = invoke("complete", load_event("ecs_task_state_change_stopped.json", job_id=job_id, task_arn=task_arn))
        assert failed["status"] == "FAILED"
        item = aws.client("dynamodb").get_item(TableName=jobs_table, Key={"job_id": {"S": job_id}})["Item"]
        assert item["status"]["S"] == "FAILED"
        # s3_trigger: a notebook uploaded to the deployed bucket's inbox runs on the deployed cluster and network
        notebook = write_notebook(tmp_path / "cfn.ipynb", "x = 1", "x")
        aws.client("s3").put_object(Bucket=bucket, Key="inbox/cfn.ipynb", Body=notebook.read_bytes())
        [started] = invoke(
            "s3_trigger", load_event("s3_object_created.json", bucket=bucket, key="inbox/cfn.ipynb", sequencer="00CFN")
        )
        assert started["status"] == "QUEUED" and started["task_arn"]
        copied = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"jobs/{started['job_id']}/input/")
        assert [o["Key"] for o in copied["Contents"]] == [f"jobs/{started['job_id']}/input/cfn.ipynb"]
        [task] = aws.client("ecs").describe_tasks(cluster=get_settings().cluster, tasks=[started["task_arn"]])["tasks"]
        assert task["taskDefinitionArn"] == deployed.one("AWS::ECS::TaskDefinition")
        [override] = task["overrides"]["containerOverrides"]
        assert override["name"] == "runner"
        assert {"name": "SHIFTWORK_JOB_ID", "value": started["job_id"]} in override["environment"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        use_launcher(stack.launcher)


def test_the_dispatch_queue_feeds_the_dispatcher_and_the_reconcile_rule_the_completer(deployed):
    from shiftwork import aws

    queue_url = deployed.one("AWS::SQS::Queue", has="RedrivePolicy")
    sqs, functions = aws.client("sqs"), aws.client("lambda")
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    dead_letters = sqs.get_queue_attributes(
        QueueUrl=deployed.one("AWS::SQS::Queue", lacks="RedrivePolicy"), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dead_letters, "maxReceiveCount": 5}
    dispatch = functions.get_function(FunctionName=deployed.function("dispatch"))["Configuration"]
    assert int(attributes["VisibilityTimeout"]) >= 6 * dispatch["Timeout"]
    [mapping] = functions.list_event_source_mappings(FunctionName=dispatch["FunctionName"])["EventSourceMappings"]
    assert (mapping["EventSourceArn"], mapping["FunctionArn"]) == (attributes["QueueArn"], dispatch["FunctionArn"])
    assert mapping["BatchSize"] == 10 and mapping["State"] == "Enabled"

    events = aws.client("events")
    rule = deployed.rule(schedule="rate(15 minutes)")
    assert events.describe_rule(Name=rule)["State"] == "ENABLED"
    [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert (
        target["Arn"]
        == functions.get_function(FunctionName=deployed.function("complete"))["Configuration"]["FunctionArn"]
    )


def _configure_as(deployed: Deployed, handler: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's settings: the deployed function's (its SHIFTWORK_* variables), moto's endpoint kept."""
    from shiftwork.config import get_settings

    for name in [n for n in os.environ if n.startswith("SHIFTWORK_") and n != "SHIFTWORK_ENDPOINT_URL"]:
        monkeypatch.delenv(name)
    for name, value in _function_settings(deployed, handler)[1].items():
        if name.startswith("SHIFTWORK_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def test_a_retry_waits_in_the_deployed_dispatch_queue_then_the_dispatcher_launches_it(
    stack, deployed, monkeypatch, tmp_path
):
    """complete (configured as deployed) delays the retry in the dispatch queue; the dispatcher takes it from there.

    moto's event source mapping would run the function in Docker, so the test receives the message itself, once
    due, and hands the dispatch handler the SQS event the mapping would.
    """
    from shiftwork import aws
    from shiftwork.config import get_settings
    from shiftwork.dispatch.aftermath import retry_job_id
    from shiftwork.dispatch.fire import new_job
    from shiftwork.launchers import FargateLauncher, use_launcher
    from shiftwork.local.delivery import sqs_event
    from shiftwork.local.lambdas import invoke
    from shiftwork.models import DescribeJobDefinition, Status
    from shiftwork.store import definitions, jobs

    _configure_as(deployed, "complete", monkeypatch)
    queue_url = get_settings().dispatch_queue_url
    assert queue_url == deployed.one("AWS::SQS::Queue", has="RedrivePolicy")
    use_launcher(FargateLauncher())
    try:
        now = jobs.now_ms()
        definition = DescribeJobDefinition(
            job_definition_id=str(uuid.uuid4()),
            name="deployed-retry",
            version=1,
            input_filename="x.ipynb",
            input_prefix="definitions/x/v1/input/",
            max_retries=1,
            retry_backoff_seconds=2,
            create_time=now,
            update_time=now,
            active_since=now,
        )
        definitions.put(definition)
        task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{get_settings().cluster}/retry"
        first = new_job(definition, str(uuid.uuid4()), None, status=Status.FAILED, task_arn=task_arn, end_time=now)
        jobs.put_new(first)
        invoke("complete", load_event("ecs_task_state_change_stopped.json", job_id=first.job_id, task_arn=task_arn))
        retry = jobs.get(retry_job_id(first.job_id, 2))
        assert retry.status == Status.CREATED
        sqs = aws.client("sqs")
        assert sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []) == []  # delayed
        messages = []
        deadline = time.monotonic() + 10
        while not messages and time.monotonic() < deadline:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
            ).get("Messages", [])
        assert [json.loads(m["Body"]) for m in messages] == [{"job_id": retry.job_id}]
        assert int(messages[0]["Attributes"]["SentTimestamp"]) + 2000 <= jobs.now_ms()

        _configure_as(deployed, "dispatch", monkeypatch)
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert invoke("dispatch", sqs_event(messages, arn, REGION)) == {"batchItemFailures": []}
        dispatched = jobs.get(retry.job_id)
        assert dispatched.status == Status.QUEUED and dispatched.task_arn
        [task] = aws.client("ecs").describe_tasks(cluster=get_settings().cluster, tasks=[dispatched.task_arn])["tasks"]
        assert task["taskDefinitionArn"] == deployed.one("AWS::ECS::TaskDefinition")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        use_launcher(stack.launcher)
