"""The CDK app synthesised in-process: template assertions, cdk-nag AwsSolutions clean, cfn-lint clean."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
pytest.importorskip("aws_cdk", reason="the infra extra is not installed")

# cfn-lint findings that are CDK's own doing, not ours (none left: the stack drops the DependsOn W3005 flagged)
CDK_GENERATED: dict[str, str] = {}


def test_tables_have_pitr_encryption_and_the_indexes_the_library_queries(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "job_id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                Match.object_like({"IndexName": "by-create-time"}),
                Match.object_like({"IndexName": "by-status"}),
                Match.object_like({"IndexName": "by-definition"}),
            ],
            "SSESpecification": Match.object_like({"SSEEnabled": True}),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_the_tasks_table_is_keyed_by_run_and_task_on_demand_with_pitr_and_encryption(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "job_id", "KeyType": "HASH"},
                {"AttributeName": "task_id", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "job_id", "AttributeType": "S"},
                {"AttributeName": "task_id", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": Match.object_like({"SSEEnabled": True}),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    template.resource_count_is("AWS::DynamoDB::Table", 3)


def test_the_bucket_is_private_ssl_only_versioned_and_tells_eventbridge(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "data/"}),
        },
    )
    template.has_resource_properties(
        "Custom::S3BucketNotifications", {"NotificationConfiguration": {"EventBridgeConfiguration": {}}}
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


@pytest.mark.parametrize("handler", ["dispatch", "complete", "s3_trigger", "api", "task"])
def test_each_function_is_arm64_python_312_from_one_asset(synthesized, handler):
    template, _ = synthesized
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": f"functions.{handler}.lambda_handler", "Runtime": "python3.12", "Architectures": ["arm64"]},
    )
    functions = template.find_resources("AWS::Lambda::Function", {"Properties": {"Runtime": "python3.12"}})
    assert len({json.dumps(f["Properties"]["Code"], sort_keys=True) for f in functions.values()}) == 1


def test_runner_task_and_its_logs(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "runner",
                        "Command": ["python", "-m", "shiftwork.runner"],
                        "LogConfiguration": Match.object_like({"LogDriver": "awslogs"}),
                    }
                )
            ],
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


def _dockerfile_instruction(name: str) -> list[str] | None:
    """The exec-form (JSON) argument list of the Dockerfile's last `name` instruction, or None when it has none."""
    found = None
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith(f"{name} "):
            found = json.loads(line[len(name) + 1 :])
    return found


def test_the_runner_image_runs_whatever_command_a_task_is_given(synthesized):
    """ECS runs the image's ENTRYPOINT followed by the command (RunTask's override, else the task definition's,
    else the image's CMD). With no ENTRYPOINT, the launcher's per-task command runs exactly as given."""
    template, _ = synthesized
    [definition] = template.find_resources("AWS::ECS::TaskDefinition").values()
    [container] = definition["Properties"]["ContainerDefinitions"]
    entrypoint = _dockerfile_instruction("ENTRYPOINT") or []
    assert _dockerfile_instruction("CMD") == container["Command"] == ["python", "-m", "shiftwork.runner"]
    override = ["python", "-m", "shiftwork.runner", "JOB", "--task", "TASK"]
    assert [*entrypoint, *override] == override
    assert [*entrypoint, *container["Command"]] == ["python", "-m", "shiftwork.runner"]  # a notebook job


def test_every_api_route_needs_iam_and_events_reach_their_functions(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    assert routes and all(r["Properties"]["AuthorizationType"] == "AWS_IAM" for r in routes.values())
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": Match.object_like({"source": ["aws.s3"], "detail-type": ["Object Created"]})},
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": Match.object_like({"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"]})},
    )
    template.resource_count_is("AWS::Scheduler::ScheduleGroup", 1)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)


def _table_named(template_json: str, *keys: str) -> str:
    """The logical id of the table whose key schema is `keys` (hash, then range)."""
    tables = {n: r for n, r in json.loads(template_json)["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    [name] = [n for n, r in tables.items() if [k["AttributeName"] for k in r["Properties"]["KeySchema"]] == list(keys)]
    return name


@pytest.mark.parametrize("handler", ["dispatch", "complete", "s3_trigger", "api", "task"])
def test_every_function_and_the_runner_know_the_tasks_table(synthesized, handler):
    template, text = synthesized
    tasks = {"Ref": _table_named(text, "job_id", "task_id")}
    _, function = _function(text, handler)
    assert function["Environment"]["Variables"]["SHIFTWORK_TASKS_TABLE"] == tasks
    [definition] = template.find_resources("AWS::ECS::TaskDefinition").values()
    [container] = definition["Properties"]["ContainerDefinitions"]
    assert {"Name": "SHIFTWORK_TASKS_TABLE", "Value": tasks} in container["Environment"]


def test_the_task_function_runs_a_light_task_for_up_to_15_minutes_and_reports_every_outcome(synthesized):
    """1769 MB (a full vCPU) and Lambda's 900 s limit; no Lambda retries (an attempt is one invocation); each
    outcome, a timeout included, goes through the default bus to the complete function."""
    from aws_cdk.assertions import Match

    template, text = synthesized
    task, function = _function(text, "task")
    assert (function["MemorySize"], function["Timeout"]) == (1769, 900)
    assert "ReservedConcurrentExecutions" not in function  # unless the deployer asks (-c taskFunctionConcurrency)
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "shiftwork-task"
    assert function["LoggingConfig"]["LogGroup"]["Ref"] in template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 90}}
    )
    default_bus = Match.object_like({"Fn::Join": ["", Match.array_with([":event-bus/default"])]})
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": task},
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 0,
            "DestinationConfig": {"OnSuccess": {"Destination": default_bus}, "OnFailure": {"Destination": default_bus}},
        },
    )
    complete, _ = _function(text, "complete")
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["lambda"],
                "detail-type": [
                    "Lambda Function Invocation Result - Success",
                    "Lambda Function Invocation Result - Failure",
                ],
                "detail": {
                    "requestContext": {
                        "functionArn": [{"prefix": {"Fn::Join": ["", [{"Fn::GetAtt": [task, "Arn"]}, ":"]]}}]
                    }
                },
            },
            "Targets": [
                Match.object_like({"Arn": {"Fn::GetAtt": [complete, "Arn"]}, "DeadLetterConfig": Match.any_value()})
            ],
        },
    )


@pytest.mark.parametrize(
    ("handler", "launches"),
    [("dispatch", True), ("complete", True), ("s3_trigger", True), ("api", False), ("task", False)],
)
def test_the_functions_that_launch_tasks_know_the_task_function_and_its_memory(synthesized, handler, launches):
    """The launchers invoke it; the API shows runs (and may check a task's memory); the task function itself
    launches nothing."""
    _, text = synthesized
    task, _ = _function(text, "task")
    variables = _function(text, handler)[1]["Environment"]["Variables"]
    knows = launches or handler == "api"
    assert variables.get("SHIFTWORK_TASK_FUNCTION") == ({"Fn::GetAtt": [task, "Arn"]} if knows else None)
    assert variables.get("SHIFTWORK_TASK_FUNCTION_MEMORY") == ("1769" if knows else None)


def test_the_task_functions_size_comes_from_the_context_and_a_bad_value_is_refused_by_name():
    """cdk deploy -c taskFunctionMemory=N -c taskFunctionConcurrency=N (read by the construct, no full synth)."""
    import aws_cdk as cdk

    sys.path.insert(0, str(ROOT / "infra"))
    from shiftwork_infra.functions import TASK_MEMORY_MB, _context_int

    app = cdk.App(context={"taskFunctionMemory": "3008", "taskFunctionConcurrency": "abc", "empty": ""})
    stack = cdk.Stack(app, "Probe")
    assert _context_int(stack, "taskFunctionMemory", TASK_MEMORY_MB, 128, 10240) == 3008
    assert _context_int(stack, "absent", TASK_MEMORY_MB, 128, 10240) == TASK_MEMORY_MB == 1769
    assert _context_int(stack, "empty", None, 1, 10) is None
    with pytest.raises(ValueError, match=r"context taskFunctionConcurrency='abc': must be an integer from 1 to 9"):
        _context_int(stack, "taskFunctionConcurrency", None, 1, 9)
    with pytest.raises(ValueError, match=r"taskFunctionMemory='3008': must be an integer from 128 to 2048"):
        _context_int(stack, "taskFunctionMemory", TASK_MEMORY_MB, 128, 2048)


def test_cfn_lint_is_clean(synthesized):
    from cfnlint.api import lint_all

    _, template = synthesized
    findings = [
        f"{m.rule.id} {m.message}"
        for m in lint_all(template)
        if m.rule.id[0] in "EW" and m.rule.id not in CDK_GENERATED
    ]
    assert findings == []


def test_each_function_waits_for_its_permissions_but_lists_no_implied_dependency(synthesized):
    """DependsOn keeps the role's default policy (a function must not run before its grants exist); the role itself
    is implied by the GetAtt on it, so it is not listed again (cfn-lint W3005)."""
    resources = json.loads(synthesized[1])["Resources"]
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    ours = {name: r for name, r in functions.items() if name.startswith("Functions")}
    assert len(ours) == 5
    for resource in ours.values():
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        [policy] = resource["DependsOn"]
        assert resources[policy]["Type"] == "AWS::IAM::Policy"
        assert resources[policy]["Properties"]["Roles"] == [{"Ref": role}]
    for resource in functions.values():
        assert resource["Properties"]["Role"]["Fn::GetAtt"][0] not in resource.get("DependsOn", [])


def _function(template_json: str, handler: str) -> tuple[str, dict]:
    """The logical id and properties of the function whose handler is functions.<handler>."""
    for name, resource in json.loads(template_json)["Resources"].items():
        if resource.get("Properties", {}).get("Handler") == f"functions.{handler}.lambda_handler":
            return name, resource["Properties"]
    raise AssertionError(f"no function for functions.{handler}")


def test_the_dispatcher_consumes_an_encrypted_ssl_only_queue_with_dead_letters(synthesized):
    from aws_cdk.assertions import Match

    template, text = synthesized
    [(queue, properties)] = [
        (n, r["Properties"])
        for n, r in template.find_resources("AWS::SQS::Queue").items()
        if "RedrivePolicy" in r["Properties"]
    ]
    dispatch, function = _function(text, "dispatch")
    # a batch in progress is never delivered twice: six times the dispatcher's timeout (Lambda's advice)
    assert properties["VisibilityTimeout"] >= 6 * function["Timeout"]
    assert properties["SqsManagedSseEnabled"] is True
    dead_letters = properties["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert properties["RedrivePolicy"]["maxReceiveCount"] == 5
    assert template.find_resources("AWS::SQS::Queue")[dead_letters]["Properties"]["SqsManagedSseEnabled"] is True
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]},
            "FunctionName": {"Ref": dispatch},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],  # a failed record comes back alone
            "BatchSize": 10,
        },
    )
    # the dead letters raise the alarm
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]},
    )


@pytest.mark.parametrize(
    ("handler", "sends"), [("complete", True), ("api", True), ("dispatch", False), ("s3_trigger", False)]
)
def test_the_functions_that_hand_jobs_to_the_dispatcher_know_its_queue(synthesized, handler, sends):
    """complete queues retries (delayed by their backoff), api queues run-now requests; the others send nothing."""
    template, text = synthesized
    [queue] = [n for n, r in template.find_resources("AWS::SQS::Queue").items() if "RedrivePolicy" in r["Properties"]]
    _, function = _function(text, handler)
    variables = function["Environment"]["Variables"]
    assert variables.get("SHIFTWORK_DISPATCH_QUEUE_URL") == ({"Ref": queue} if sends else None)


def test_the_complete_function_reconciles_every_15_minutes(synthesized):
    from aws_cdk.assertions import Match

    template, text = synthesized
    complete, _ = _function(text, "complete")
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(15 minutes)",
            "State": "ENABLED",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [complete, "Arn"]}})],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "FunctionName": {"Fn::GetAtt": [complete, "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": Match.object_like({"Fn::GetAtt": Match.array_with(["Arn"])}),
        },
    )


def test_the_definitions_table_has_the_sparse_by_upstream_index_run_after_queries(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "job_definition_id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                Match.object_like({"IndexName": "by-create-time"}),
                {
                    "IndexName": "by-upstream",
                    "KeySchema": [{"AttributeName": "run_after", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
        },
    )
