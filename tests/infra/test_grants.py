"""Least privilege per function: each Lambda's role allows exactly what the code its handler runs calls.

Resources are named by what they are (found by their properties), never by CDK's hashed logical ids.
"""

from __future__ import annotations

import json

import pytest

XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")  # Lambda active tracing (CDK's own grant)
DDB_READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
DDB_WRITE = ("dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
SQS_CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
SQS_SEND = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
S3_READ = ("s3:GetObject*", "s3:GetBucket*", "s3:List*")
S3_PUT = (
    "s3:PutObject",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:Abort*",
)
LOGS_READ = (
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogGroupFields",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
)
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::Partition", "AWS::Region"}
PASS_RUNNER_ROLES = {"iam:PassRole": {"task role", "execution role"}}


def on(resources: set[str], *actions: str) -> dict[str, set[str]]:
    return {action: set(resources) for action in actions}


def merged(*grants: dict[str, set[str]]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for grant in grants:
        for action, resources in grant.items():
            result.setdefault(action, set()).update(resources)
    return result


LAUNCH = merged(on({"task definition"}, "ecs:RunTask"), on({"cluster"}, "ecs:TagResource"), PASS_RUNNER_ROLES)
EXPECTED = {
    "dispatch": merged(
        on({"*"}, *XRAY),
        on({"jobs", "definitions"}, *DDB_READ, *DDB_WRITE),
        on({"dispatch queue"}, *SQS_CONSUME),
        LAUNCH,
        on({"schedule group"}, "scheduler:ListSchedules", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"),
        on({"scheduler role"}, "iam:PassRole"),
    ),
    "complete": merged(
        on({"*"}, *XRAY),
        on({"jobs", "definitions"}, *DDB_READ, *DDB_WRITE),
        on({"dispatch queue"}, *SQS_SEND),
        on({"topic"}, "sns:Publish"),
        on({"topic key"}, "kms:Decrypt", "kms:GenerateDataKey*"),
    ),
    "s3_trigger": merged(
        on({"*"}, *XRAY),
        on({"jobs", "definitions"}, *DDB_READ, *DDB_WRITE),  # a watcher's run is admitted under its count
        on({"bucket"}, *S3_READ, *S3_PUT),
        LAUNCH,
    ),
    "api": merged(
        on({"*"}, *XRAY),
        on({"jobs", "definitions"}, *DDB_READ, *DDB_WRITE),
        on({"bucket"}, *S3_READ, *S3_PUT, "s3:DeleteObject*"),
        on({"runner logs"}, *LOGS_READ),
        on({"dispatch queue"}, *SQS_SEND),
        on(
            {"schedule group"},
            "scheduler:ListSchedules",
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
        ),
        on({"scheduler role"}, "iam:PassRole"),
        on({"cluster"}, "ecs:StopTask"),
        on({"topic"}, "sns:Subscribe", "sns:ListSubscriptionsByTopic"),
    ),
}
# what each must not do, said outright (EXPECTED's exactness implies it; these are the ones that would matter)
FORBIDDEN = {
    "dispatch": ["sns:Publish", "s3:GetObject*", "s3:PutObject", "scheduler:CreateSchedule", "ecs:StopTask"],
    "complete": ["ecs:RunTask", "iam:PassRole", "s3:GetObject*", "scheduler:UpdateSchedule", "sqs:ReceiveMessage"],
    "s3_trigger": ["scheduler:CreateSchedule", "sns:Publish", "sqs:SendMessage", "s3:DeleteObject*", "ecs:StopTask"],
    "api": ["ecs:RunTask", "sns:Publish", "sqs:ReceiveMessage", "ecs:TagResource"],
}


def _references(value: object) -> set[str]:
    if isinstance(value, dict):
        found = {value["Ref"]} if isinstance(value.get("Ref"), str) else set()
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        return found.union(*(_references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value))
    return set()


def _names(resources: dict) -> dict[str, str]:
    """logical id -> what the resource is, found by its properties."""

    def where(kind: str, test=lambda p: True) -> list[str]:
        return [n for n, r in resources.items() if r["Type"] == kind and test(r.get("Properties", {}))]

    def assumed_by(service: str):
        return lambda p: json.dumps(p["AssumeRolePolicyDocument"]).count(f'"{service}"') == 1

    [task_definition] = where("AWS::ECS::TaskDefinition")
    properties = resources[task_definition]["Properties"]
    [container] = properties["ContainerDefinitions"]
    names = {
        task_definition: "task definition",
        properties["TaskRoleArn"]["Fn::GetAtt"][0]: "task role",
        properties["ExecutionRoleArn"]["Fn::GetAtt"][0]: "execution role",
        container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]: "runner logs",
    }
    for label, found in {
        "jobs": where("AWS::DynamoDB::Table", lambda p: p["KeySchema"][0]["AttributeName"] == "job_id"),
        "definitions": where("AWS::DynamoDB::Table", lambda p: p["KeySchema"][0]["AttributeName"] != "job_id"),
        "bucket": where("AWS::S3::Bucket", lambda p: "LoggingConfiguration" in p),
        "dispatch queue": where("AWS::SQS::Queue", lambda p: "RedrivePolicy" in p),
        "topic": where("AWS::SNS::Topic"),
        "topic key": where("AWS::KMS::Key"),
        "cluster": where("AWS::ECS::Cluster"),
        "schedule group": where("AWS::Scheduler::ScheduleGroup"),
        "scheduler role": where("AWS::IAM::Role", assumed_by("scheduler.amazonaws.com")),
    }.items():
        [logical_id] = found
        names[logical_id] = label
    return names


def granted(template_json: str, handler: str) -> dict[str, set[str]]:
    """action -> what the function's role may do it on ("*", or the names of the resources)."""
    resources = json.loads(template_json)["Resources"]
    names = _names(resources)
    [function] = [
        r for r in resources.values() if r.get("Properties", {}).get("Handler") == f"functions.{handler}.lambda_handler"
    ]
    return _allowed_to(resources, names, function["Properties"]["Role"]["Fn::GetAtt"][0])


def _allowed_to(resources: dict, names: dict[str, str], role: str) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}
    for policy in resources.values():
        if policy["Type"] != "AWS::IAM::Policy" or {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            pointed = _references(statement["Resource"]) - PSEUDO_PARAMETERS
            on_what = {"*"} if statement["Resource"] == "*" else {names.get(r, r) for r in pointed}
            for action in actions:
                allowed.setdefault(action, set()).update(on_what)
    return allowed


def test_the_runner_may_end_a_job_and_give_its_slot_back(synthesized):
    resources = json.loads(synthesized[1])["Resources"]
    names = _names(resources)
    [task_role] = [logical_id for logical_id, label in names.items() if label == "task role"]
    allowed = _allowed_to(resources, names, task_role)
    # a terminal status write is one transaction: the job's update and its definition's active count
    assert {"jobs", "definitions"} <= allowed["dynamodb:UpdateItem"]
    assert "ecs:RunTask" not in allowed and "sns:Publish" not in allowed


@pytest.mark.parametrize("handler", sorted(EXPECTED))
def test_each_function_is_allowed_exactly_what_its_code_calls(synthesized, handler):
    allowed = granted(synthesized[1], handler)
    assert allowed == EXPECTED[handler]
    assert [action for action in FORBIDDEN[handler] if action in allowed] == []


def test_the_grants_are_scoped_within_their_resources(synthesized):
    from aws_cdk.assertions import Match

    template, text = synthesized
    resources = json.loads(text)["Resources"]
    names = {label: logical_id for logical_id, label in _names(resources).items()}
    bucket_arn = {"Fn::GetAtt": [names["bucket"], "Arn"]}
    tasks = Match.object_like({"Fn::Join": ["", Match.array_with([":task/", {"Ref": names["cluster"]}, "/*"])]})

    def statement(**fields):
        return {"PolicyDocument": {"Statement": Match.array_with([Match.object_like(fields)])}}

    # the s3_trigger reads only the inbox and writes only jobs' files
    template.has_resource_properties(
        "AWS::IAM::Policy",
        statement(
            Action=list(S3_READ),
            Resource=[bucket_arn, {"Fn::Join": ["", [bucket_arn, "/inbox/*"]]}],
        ),
    )
    template.has_resource_properties(
        "AWS::IAM::Policy", statement(Action=list(S3_PUT), Resource={"Fn::Join": ["", [bucket_arn, "/jobs/*"]]})
    )
    # tasks are tagged only as RunTask creates them, and stopped only in this stack's cluster
    template.has_resource_properties(
        "AWS::IAM::Policy",
        statement(
            Action="ecs:TagResource", Resource=tasks, Condition={"StringEquals": {"ecs:CreateAction": "RunTask"}}
        ),
    )
    template.has_resource_properties("AWS::IAM::Policy", statement(Action="ecs:StopTask", Resource=tasks))
    # the runner's roles are passed to ECS tasks only
    template.has_resource_properties(
        "AWS::IAM::Policy",
        statement(Action="iam:PassRole", Condition={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
    )
