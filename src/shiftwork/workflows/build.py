"""A run's task records, from its spec (in its code snapshot) and, for a rerun, the run it reruns."""

from __future__ import annotations

import functools

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.models import DescribeJob
from shiftwork.models.workflow import WORKFLOW_SPEC_FILE, DescribeTask, TaskStatus, WorkflowSpec
from shiftwork.store import files, tasks


def spec_key(job: DescribeJob) -> str:
    return (job.input_prefix or files.input_prefix(job.job_id)) + WORKFLOW_SPEC_FILE


def load_spec(job: DescribeJob) -> WorkflowSpec:
    """The spec the run's code snapshot holds (JSON: any Lambda may read it)."""
    settings = get_settings()
    return _read_spec(settings.endpoint_url, settings.bucket, spec_key(job)).model_copy(deep=True)


@functools.lru_cache(maxsize=64)
def _read_spec(endpoint_url: str | None, bucket: str, key: str) -> WorkflowSpec:
    """A snapshot's spec, read once per process: a snapshot is written once under a key of its own (the run's id,
    or a version's unique prefix), so every task's end of a run would otherwise read and parse the same file again."""
    body = aws.client("s3", get_settings()).get_object(Bucket=bucket, Key=key)["Body"].read()
    return WorkflowSpec.model_validate_json(body)


def original_tasks(job: DescribeJob) -> dict[str, DescribeTask]:
    """A partial rerun's reusable tasks: the original run's completed ones, by task id (instances included)."""
    if not job.original_run_id or not job.partial_rerun:
        return {}
    return {t.task_id: t for t in tasks.list_for(job.original_run_id) if t.status == TaskStatus.COMPLETED}


def build_tasks(job: DescribeJob, spec: WorkflowSpec, reusable: dict[str, DescribeTask]) -> list[DescribeTask]:
    """One record per task of the spec (and per instance of a reused mapped task), PENDING unless reused."""
    downstream = spec.downstream()
    reused = {task.name for task in spec.tasks if task.name in reusable}
    built = []
    for spec_task in spec.tasks:
        if spec_task.name in reused:
            built.extend(_reused(job, reusable, spec_task.name))
            continue
        upstream = spec_task.upstream
        built.append(
            DescribeTask(
                job_id=job.job_id,
                task_id=spec_task.name,
                name=spec_task.name,
                kind=spec_task.kind,
                upstream=upstream,
                downstream=downstream[spec_task.name],
                pending_inputs=sum(1 for name in upstream if name not in reused),
                max_attempts=spec_task.retries + 1,
                executor=spec_task.executor,
                requested=spec_task.resources,
                timeout_seconds=spec_task.timeout_seconds,
            )
        )
    return built


def _reused(job: DescribeJob, reusable: dict[str, DescribeTask], name: str) -> list[DescribeTask]:
    """A completed task of the original run, and its instances if it was mapped, as this run's settled tasks."""
    template = reusable[name]
    ids = [name] + [f"{name}[{i}]" for i in range(template.map_count or 0)]
    copies = []
    for task_id in ids:
        original = reusable.get(task_id)
        if original is None:
            continue
        copies.append(
            original.model_copy(
                update={
                    "job_id": job.job_id,
                    "settled": True,
                    "reused_from": original.reused_from or original.job_id,
                    "task_arn": None,
                    "result_key": _copy_result(job, original),
                }
            )
        )
    return copies


def _copy_result(job: DescribeJob, original: DescribeTask) -> str | None:
    """The reused result, copied under this run: deleting the original run does not take it away."""
    from shiftwork.workflows.results import result_key

    if original.result_key is None or original.result_format is None:
        return None
    settings = get_settings()
    key = result_key(job.job_id, original.task_id, original.result_format)
    s3 = aws.client("s3", settings)
    # get and put rather than copy_object: the embedded stack's journal replays plain puts exactly
    body = s3.get_object(Bucket=settings.bucket, Key=original.result_key)["Body"].read()
    s3.put_object(Bucket=settings.bucket, Key=key, Body=body)
    return key
