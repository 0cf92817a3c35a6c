"""The synthesised template deployed into moto's CloudFormation (the resources moto supports), and the
handlers then working against the tables and bucket CloudFormation made."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.helpers import load_event, write_notebook
from tests.infra.test_stack import synthesized  # noqa: F401 - the module's fixture

SUPPORTED = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Logs::LogGroup"}


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


def _deployable(template: dict) -> dict:
    """The resources moto's CloudFormation supports, minus properties that point at ones it does not."""
    kept = {name: dict(r) for name, r in template["Resources"].items() if r["Type"] in SUPPORTED}
    for resource in kept.values():
        resource.pop("DependsOn", None)
        properties = dict(resource.get("Properties", {}))
        for key, value in list(properties.items()):
            if _references(value) - set(kept) - {"AWS::Region", "AWS::AccountId", "AWS::Partition"}:
                properties.pop(key)  # e.g. an SNS topic's KMS key
        resource["Properties"] = properties
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": kept}


@pytest.fixture
def deployed(stack, synthesized):  # noqa: F811
    from shiftwork import aws

    cloudformation = aws.client("cloudformation")
    name = f"shiftwork-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(_deployable(json.loads(synthesized[1]))))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status != "CREATE_IN_PROGRESS":
            break
        time.sleep(0.2)
    assert status == "CREATE_COMPLETE"
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}, json.loads(synthesized[1])


def _physical(deployed, kind, key=None):
    physical, template = deployed
    for name, resource in template["Resources"].items():
        if resource["Type"] != kind or name not in physical:
            continue
        key_matches = key is None or resource["Properties"]["KeySchema"][0]["AttributeName"] == key
        data_bucket = kind != "AWS::S3::Bucket" or "LoggingConfiguration" in resource["Properties"]
        if key_matches and data_bucket:  # the data bucket logs to the access-log bucket
            return physical[name]
    raise AssertionError(f"no {kind} {key or ''} deployed")


def test_handlers_work_against_the_deployed_tables_and_bucket(stack, deployed, monkeypatch, tmp_path):
    from shiftwork import aws
    from shiftwork.config import get_settings
    from shiftwork.launchers import FargateLauncher, use_launcher
    from shiftwork.local.lambdas import invoke
    from shiftwork.models import DescribeJob, Status
    from shiftwork.store import files, jobs

    jobs_table = _physical(deployed, "AWS::DynamoDB::Table", "job_id")
    bucket = _physical(deployed, "AWS::S3::Bucket")
    indexes = aws.client("dynamodb").describe_table(TableName=jobs_table)["Table"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"] for i in indexes} == {"by-create-time", "by-status", "by-definition"}

    monkeypatch.setenv("SHIFTWORK_JOBS_TABLE", jobs_table)
    monkeypatch.setenv("SHIFTWORK_DEFINITIONS_TABLE", _physical(deployed, "AWS::DynamoDB::Table", "job_definition_id"))
    monkeypatch.setenv("SHIFTWORK_BUCKET", bucket)
    get_settings.cache_clear()
    use_launcher(FargateLauncher())
    try:
        # complete: a job whose task died, in the deployed jobs table
        job_id = str(uuid.uuid4())
        now = jobs.now_ms()
        jobs.put_new(
            DescribeJob(
                job_id=job_id,
                name="cfn",
                status=Status.IN_PROGRESS,
                input_filename="x.ipynb",
                create_time=now,
                update_time=now,
                output_prefix=files.output_prefix(job_id),
                task_arn="arn:aws:ecs:us-east-1:123456789012:task/shiftwork/cfn",
            )
        )
        failed = invoke(
            "complete",
            load_event(
                "ecs_task_state_change_stopped.json",
                job_id=job_id,
                task_arn="arn:aws:ecs:us-east-1:123456789012:task/shiftwork/cfn",
            ),
        )
        assert failed["status"] == "FAILED"
        item = aws.client("dynamodb").get_item(TableName=jobs_table, Key={"job_id": {"S": job_id}})["Item"]
        assert item["status"]["S"] == "FAILED"
        # s3_trigger: a notebook uploaded to the deployed bucket's inbox
        notebook = write_notebook(tmp_path / "cfn.ipynb", "x = 1", "x")
        aws.client("s3").put_object(Bucket=bucket, Key="inbox/cfn.ipynb", Body=notebook.read_bytes())
        [started] = invoke(
            "s3_trigger", load_event("s3_object_created.json", bucket=bucket, key="inbox/cfn.ipynb", sequencer="00CFN")
        )
        assert started["status"] == "QUEUED" and started["task_arn"]
        copied = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"jobs/{started['job_id']}/input/")
        assert [o["Key"] for o in copied["Contents"]] == [f"jobs/{started['job_id']}/input/cfn.ipynb"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        use_launcher(stack.launcher)
