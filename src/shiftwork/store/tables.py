"""Table models. Names, endpoint and region are bound from settings when first used, not at import."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from shiftwork import aws
from shiftwork.config import DEFINITIONS_TABLE, JOBS_TABLE, TASKS_TABLE, Settings, get_settings

# Every job carries this constant so one index lists all jobs newest first without a Scan.
ALL_JOBS = "JOB"
ALL_DEFINITIONS = "DEFINITION"


class _Meta:
    billing_mode = "PAY_PER_REQUEST"
    host: str | None = None
    region = "us-east-1"


class JobsByCreateTime(GlobalSecondaryIndex["JobRecord"]):
    class Meta:
        index_name = "by-create-time"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class JobsByStatus(GlobalSecondaryIndex["JobRecord"]):
    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class JobsByDefinition(GlobalSecondaryIndex["JobRecord"]):
    class Meta:
        index_name = "by-definition"
        projection = AllProjection()

    job_definition_id = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class JobRecord(Model):
    class Meta(_Meta):
        table_name = JOBS_TABLE

    job_id = UnicodeAttribute(hash_key=True)
    list_pk = UnicodeAttribute(default=ALL_JOBS)
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    status_message = UnicodeAttribute(null=True)
    input_filename = UnicodeAttribute()
    parameters = JSONAttribute(default=dict)
    output_formats = JSONAttribute(default=list)
    kernel_name = UnicodeAttribute(null=True)  # absent: the notebook's own, resolved by the runner
    timeout_seconds = NumberAttribute(null=True)
    package_input_folder = BooleanAttribute(default=False)
    job_files = JSONAttribute(default=list)
    create_time = NumberAttribute()
    update_time = NumberAttribute()
    start_time = NumberAttribute(null=True)
    end_time = NumberAttribute(null=True)
    job_definition_id = UnicodeAttribute(null=True)
    job_definition_version = NumberAttribute(null=True)
    scheduled_time = UnicodeAttribute(null=True)
    idempotency_token = UnicodeAttribute(null=True)
    tags = JSONAttribute(default=list)
    input_prefix = UnicodeAttribute(null=True)
    attempt = NumberAttribute(default=1)
    retry_of = UnicodeAttribute(null=True)
    triggered_by = UnicodeAttribute(null=True)  # run-after: the upstream job whose end started it
    notified = BooleanAttribute(default=False)
    task_arn = UnicodeAttribute(null=True)
    log_stream = UnicodeAttribute(null=True)
    output_prefix = UnicodeAttribute()
    holds_slot = BooleanAttribute(null=True)  # present while the job holds one of its definition's slots
    # papermill's options, and a failure's traceback (capped by the runner well under DynamoDB's 400 KB)
    execution_timeout_seconds = NumberAttribute(null=True)
    start_timeout_seconds = NumberAttribute(default=60)
    report_mode = BooleanAttribute(default=False)
    error_traceback = UnicodeAttribute(null=True)
    # a workflow run (kind "workflow"): its tasks are TaskRecords; these count them as they settle
    kind = UnicodeAttribute(null=True)  # absent: a notebook job
    tasks_open = NumberAttribute(null=True)  # tasks not yet settled; the write that makes it 0 ends the run
    tasks_failed = NumberAttribute(null=True)
    original_run_id = UnicodeAttribute(null=True)  # a rerun: the run it reruns
    partial_rerun = BooleanAttribute(null=True)  # a rerun that reuses the original's completed tasks

    by_create_time = JobsByCreateTime()
    by_status = JobsByStatus()
    by_definition = JobsByDefinition()


class DefinitionsByCreateTime(GlobalSecondaryIndex["DefinitionRecord"]):
    class Meta:
        index_name = "by-create-time"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class DefinitionsByUpstream(GlobalSecondaryIndex["DefinitionRecord"]):
    """Sparse: only definitions that run after another are in it, under the upstream definition's id."""

    class Meta:
        index_name = "by-upstream"
        projection = KeysOnlyProjection()

    run_after = UnicodeAttribute(hash_key=True)


class DefinitionRecord(Model):
    class Meta(_Meta):
        table_name = DEFINITIONS_TABLE

    job_definition_id = UnicodeAttribute(hash_key=True)
    list_pk = UnicodeAttribute(default=ALL_DEFINITIONS)
    name = UnicodeAttribute()
    version = NumberAttribute()
    input_filename = UnicodeAttribute()
    input_prefix = UnicodeAttribute()
    parameters = JSONAttribute(default=dict)
    output_formats = JSONAttribute(default=list)
    kernel_name = UnicodeAttribute(default="python3")
    timeout_seconds = NumberAttribute(null=True)
    package_input_folder = BooleanAttribute(default=False)
    schedule = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(default="UTC")
    trigger = JSONAttribute(default=dict)
    watch_prefix = UnicodeAttribute(null=True)
    compiled = JSONAttribute(default=list)
    active = BooleanAttribute(default=True)
    max_running_jobs = NumberAttribute(default=1)
    misfire_grace_time = NumberAttribute(null=True)
    coalesce = UnicodeAttribute(default="latest")
    tags = JSONAttribute(default=list)
    max_retries = NumberAttribute(default=0)
    retry_backoff_seconds = NumberAttribute(default=60)
    notify = JSONAttribute(default=list)
    create_time = NumberAttribute()
    update_time = NumberAttribute()
    active_since = NumberAttribute()
    active_jobs = NumberAttribute(null=True)  # slots its jobs hold (store/slots.py); absent means 0
    # papermill's options
    execution_timeout_seconds = NumberAttribute(null=True)
    start_timeout_seconds = NumberAttribute(default=60)
    report_mode = BooleanAttribute(default=False)
    kind = UnicodeAttribute(null=True)  # absent: a notebook definition
    workflow = JSONAttribute(null=True)  # a workflow definition's spec (models.workflow.WorkflowSpec)
    run_after = UnicodeAttribute(null=True)  # the upstream definition's id (the by-upstream index's key)
    run_after_condition = UnicodeAttribute(null=True)

    by_create_time = DefinitionsByCreateTime()
    by_upstream = DefinitionsByUpstream()


class TaskRecord(Model):
    """One task of a workflow run (models.workflow.DescribeTask): a run's tasks are one Query on its job id."""

    class Meta(_Meta):
        table_name = TASKS_TABLE

    job_id = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute(default="function")
    status = UnicodeAttribute()
    status_message = UnicodeAttribute(null=True)
    error_traceback = UnicodeAttribute(null=True)
    upstream = JSONAttribute(default=list)
    downstream = JSONAttribute(default=list)
    pending_inputs = NumberAttribute(default=0)
    failed_inputs = NumberAttribute(default=0)
    attempt = NumberAttribute(default=1)
    max_attempts = NumberAttribute(default=1)
    executor = UnicodeAttribute(default="fargate")
    requested = JSONAttribute(default=dict)
    resources = JSONAttribute(null=True)
    timeout_seconds = NumberAttribute(null=True)
    task_arn = UnicodeAttribute(null=True)
    log_stream = UnicodeAttribute(null=True)
    result_key = UnicodeAttribute(null=True)
    result_format = UnicodeAttribute(null=True)
    result_length = NumberAttribute(null=True)
    map_index = NumberAttribute(null=True)
    map_count = NumberAttribute(null=True)
    reused_from = UnicodeAttribute(null=True)
    settled = BooleanAttribute(default=False)
    job_files = JSONAttribute(default=list)
    submit_time = NumberAttribute(null=True)
    provision_time = NumberAttribute(null=True)
    start_time = NumberAttribute(null=True)
    end_time = NumberAttribute(null=True)


_TABLE_SETTING = {JobRecord: "jobs_table", DefinitionRecord: "definitions_table", TaskRecord: "tasks_table"}
_bound: dict[type[Model], tuple[Any, ...]] = {}


def bound(model: type[Model], settings: Settings | None = None) -> type[Model]:
    """Point `model` at the table, endpoint and region in settings; reconnect only when they changed."""
    settings = settings or get_settings()
    name = getattr(settings, _TABLE_SETTING[model])
    key = (name, settings.endpoint_url, settings.region)
    if _bound.get(model) != key:
        model.Meta.table_name = name
        model.Meta.host = settings.endpoint_url
        model.Meta.region = settings.region
        model._connection = None
        _share_botocore_session(model)
        _bound[model] = key
    return model


def _share_botocore_session(model: type[Model]) -> None:
    """Have pynamodb make the model's client from shiftwork.aws's botocore session rather than a new one.

    Each new botocore session loads the endpoint data and the DynamoDB service model again, tens of milliseconds
    per table in a Lambda's cold start. pynamodb has no option for this, so it gets the session its connection
    would otherwise make for itself.
    """
    connection = model._get_connection().connection
    with aws.botocore_session() as session:
        connection._local.session = session
        connection.client  # noqa: B018 -- made now, under the lock: botocore sessions are not thread-safe


def create_tables(settings: Settings | None = None) -> None:
    """Create every table with its indexes if missing (the embedded stack's bootstrap; CDK does it on AWS)."""
    for model in (JobRecord, DefinitionRecord, TaskRecord):
        bound(model, settings).create_table(wait=True)
        add_missing_indexes(model, settings or get_settings())


def add_missing_indexes(model: type[Model], settings: Settings) -> None:
    """Add the indexes a table made by an older version lacks (a state dir kept from before the by-upstream
    index): DynamoDB backfills a new index from the items. pynamodb creates indexes only with the table."""
    client = aws.client("dynamodb", settings)
    name = getattr(settings, _TABLE_SETTING[model])
    table = client.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    schema = model._get_schema()  # what pynamodb's create_table sends, with its index definitions
    for index in schema["global_secondary_indexes"]:
        if index["index_name"] in present:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index["index_name"],
                        "KeySchema": index["key_schema"],
                        "Projection": index["projection"],
                    }
                }
            ],
        )
