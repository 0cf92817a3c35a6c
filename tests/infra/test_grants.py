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
LOGS_WRITE = ("logs:CreateLogStream", "logs:PutLogEvents")
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


STATE = on({"jobs", "definitions", "tasks"}, *DDB_READ, *DDB_WRITE)  # every handler's records
# a job on Fargate, or a workflow task on either executor
LAUNCH = merged(
    on({"task definition"}, "ecs:RunTask"),
    on({"cluster"}, "ecs:TagResource"),
    PASS_RUNNER_ROLES,
    on({"task function"}, "lambda:InvokeFunction"),
)
EXPECTED = {
    "dispatch": merged(
        on({"*"}, *XRAY),
        STATE,
        on({"dispatch queue"}, *SQS_CONSUME),
        LAUNCH,
        on({"bucket"}, *S3_READ, *S3_PUT),  # a run's spec in its snapshot; a rerun's reused results, copied
        on({"schedule group"}, "scheduler:ListSchedules", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"),
        on({"scheduler role"}, "iam:PassRole"),
    ),
    "complete": merged(
        on({"*"}, *XRAY),
        STATE,
        LAUNCH,  # a run's dependents
        on({"bucket"}, *S3_READ, *S3_PUT),  # the run's spec, read as it advances
        on({"dispatch queue"}, *SQS_SEND),
        on({"topic"}, "sns:Publish"),
        on({"topic key"}, "kms:Decrypt", "kms:GenerateDataKey*"),
    ),
    "s3_trigger": merged(
        on({"*"}, *XRAY),
        STATE,  # a watcher's run is admitted under its count
        on({"bucket"}, *S3_READ, *S3_PUT),
        LAUNCH,
    ),
    "api": merged(
        on({"*"}, *XRAY),
        STATE,
        on({"bucket"}, *S3_READ, *S3_PUT, "s3:DeleteObject*"),
        on({"runner logs", "task function logs"}, *LOGS_READ),
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
    "task": merged(
        on({"*"}, *XRAY),
        STATE,
        on({"bucket"}, *S3_READ, *S3_PUT),  # the run's code and upstream results read; its result written
        on({"default event bus"}, "events:PutEvents"),  # its destinations: each invocation's outcome
        on({"runner logs"}, *LOGS_WRITE),  # each task's output, in its own stream of the runner log group
    ),
}
# what each must not do, said outright (EXPECTED's exactness implies it; these are the ones that would matter)
FORBIDDEN = {
    "dispatch": ["sns:Publish", "s3:DeleteObject*", "scheduler:CreateSchedule", "ecs:StopTask"],
    "complete": ["s3:DeleteObject*", "scheduler:UpdateSchedule", "sqs:ReceiveMessage", "ecs:StopTask"],
    "s3_trigger": ["scheduler:CreateSchedule", "sns:Publish", "sqs:SendMessage", "s3:DeleteObject*", "ecs:StopTask"],
    # run-now and reruns go through the dispatch queue: the API launches nothing, on Fargate or on Lambda
    "api": ["ecs:RunTask", "lambda:InvokeFunction", "sns:Publish", "sqs:ReceiveMessage", "ecs:TagResource"],
    # it runs one task; its outcome goes to complete, which advances the run
    "task": [
        "ecs:RunTask",
        "lambda:InvokeFunction",
        "iam:PassRole",
        "sqs:SendMessage",
        "sns:Publish",
        "s3:DeleteObject*",
    ],
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


def _key_schema(properties: dict) -> list[str]:
    return [key["AttributeName"] for key in properties["KeySchema"]]


def _literal(value: object) -> str:
    """The literal text of an ARN built only from pseudo parameters (Fn::Join of strings and Refs)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(part for part in value["Fn::Join"][1] if isinstance(part, str))
    return str(value)


def _names(resources: dict) -> dict[str, str]:
    """logical id -> what the resource is, found by its properties."""

    def where(kind: str, test=lambda p: True) -> list[str]:
        return [n for n, r in resources.items() if r["Type"] == kind and test(r.get("Properties", {}))]

    def assumed_by(service: str):
        return lambda p: json.dumps(p["AssumeRolePolicyDocument"]).count(f'"{service}"') == 1

    [task_definition] = where("AWS::ECS::TaskDefinition")
    properties = resources[task_definition]["Properties"]
    [container] = properties["ContainerDefinitions"]
    [task_function] = where("AWS::Lambda::Function", lambda p: p.get("Handler") == "functions.task.lambda_handler")
    names = {
        task_function: "task function",
        resources[task_function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]: "task function logs",
        task_definition: "task definition",
        properties["TaskRoleArn"]["Fn::GetAtt"][0]: "task role",
        properties["ExecutionRoleArn"]["Fn::GetAtt"][0]: "execution role",
        container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]: "runner logs",
    }
    for label, found in {
        "jobs": where("AWS::DynamoDB::Table", lambda p: _key_schema(p) == ["job_id"]),
        "definitions": where("AWS::DynamoDB::Table", lambda p: _key_schema(p) == ["job_definition_id"]),
        "tasks": where("AWS::DynamoDB::Table", lambda p: _key_schema(p) == ["job_id", "task_id"]),
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
            if not pointed and _literal(statement["Resource"]).endswith(":event-bus/default"):
                on_what = {"default event bus"}  # this account's and region's default bus, named by pseudo parameters
            for action in actions:
                allowed.setdefault(action, set()).update(on_what)
    return allowed


def test_the_runner_may_end_a_job_and_give_its_slot_back(synthesized):
    resources = json.loads(synthesized[1])["Resources"]
    names = _names(resources)
    [task_role] = [logical_id for logical_id, label in names.items() if label == "task role"]
    allowed = _allowed_to(resources, names, task_role)
    # a terminal status write is one transaction: the job's update and its definition's active count; a workflow
    # task's runner writes its task's record
    assert {"jobs", "definitions", "tasks"} <= allowed["dynamodb:UpdateItem"]
    assert "ecs:RunTask" not in allowed and "sns:Publish" not in allowed and "lambda:InvokeFunction" not in allowed


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

    # the s3_trigger reads only the inbox (and a watched workflow's spec) and writes only jobs' files
    template.has_resource_properties(
        "AWS::IAM::Policy",
        statement(
            Action=list(S3_READ),
            Resource=[bucket_arn, {"Fn::Join": ["", [bucket_arn, "/inbox/*"]]}],
        ),
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        statement(
            Action=list(S3_READ),
            Resource=[bucket_arn, {"Fn::Join": ["", [bucket_arn, "/definitions/*"]]}],
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
    # the task function is invoked unqualified (no version or alias is published): its ARN, and no "...:*"
    template.has_resource_properties(
        "AWS::IAM::Policy",
        statement(Action="lambda:InvokeFunction", Resource={"Fn::GetAtt": [names["task function"], "Arn"]}),
    )
    invoked = [
        s["Resource"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if names["task function"] in json.dumps(s["Resource"]) and ":*" in json.dumps(s["Resource"])
    ]
    assert invoked == []
    # the runner's roles are passed to ECS tasks only
    template.has_resource_properties(
        "AWS::IAM::Policy",
        statement(Action="iam:PassRole", Condition={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
    )
