"""The job lifecycle on the embedded stack: queue -> dispatch -> LocalLauncher -> runner -> store, S3, logs."""

from __future__ import annotations

import json
import uuid

import pytest

from shiftwork import aws
from shiftwork.errors import Conflict, NotFound
from shiftwork.models import CreateJob, DescribeJob, ListJobsQuery, Status
from shiftwork.store import files, jobs
from tests.functional.conftest import wait_for
from tests.helpers import cell_outputs, write_notebook


def _finished(service, job_id):
    return wait_for(lambda: (job := service.get_job(job_id)).is_terminal and job, timeout=90)


def test_a_notebook_job_runs_end_to_end(service, tmp_path):
    notebook = write_notebook(
        tmp_path / "typed.ipynb",
        "n = 1\nlabel = 'x'",
        "print('types', type(n).__name__, type(label).__name__)\nopen('made.txt', 'w').write(label * n)",
    )
    job = service.create_job(
        CreateJob(
            input_uri=str(notebook),
            parameters={"n": 3, "label": "ab"},
            output_formats=["html", "markdown", "script"],
        )
    )
    assert job.status == Status.CREATED
    done = _finished(service, job.job_id)
    assert done.status == Status.COMPLETED, done.status_message
    assert done.start_time <= done.end_time
    assert {f.file_format for f in done.job_files} == {"ipynb", "html", "markdown", "script", "txt"}

    written = service.download_job_files(job.job_id, tmp_path / "out")
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in written)
    assert names == ["files/made.txt", "typed.html", "typed.ipynb", "typed.md", "typed.py"]
    assert 'label = "ab"' in (tmp_path / "out" / "typed.py").read_text()  # the injected parameters
    assert "types int str" in (tmp_path / "out" / "typed.md").read_text()
    assert (tmp_path / "out" / "files" / "made.txt").read_text() == "ababab"
    assert "types int str\n" in cell_outputs(tmp_path / "out" / "typed.ipynb")
    assert "types int str" in (tmp_path / "out" / "typed.html").read_text()

    # the runner's output went to CloudWatch Logs, like the awslogs driver
    lines = wait_for(lambda: [e["message"] for e in service.job_logs(job.job_id)[0]])
    assert any("types int str" in line for line in lines)
    # ECS knows the task, stopped, with the job id in its overrides
    task = aws.client("ecs").describe_tasks(cluster="shiftwork", tasks=[done.task_arn])["tasks"][0]
    wait_for(
        lambda: (
            aws.client("ecs").describe_tasks(cluster="shiftwork", tasks=[done.task_arn])["tasks"][0]["lastStatus"]
            == "STOPPED"
        )
    )
    environment = task["overrides"]["containerOverrides"][0]["environment"]
    assert {"name": "SHIFTWORK_JOB_ID", "value": job.job_id} in environment


def test_a_failing_cell_fails_the_job_and_keeps_the_partial_notebook(service, tmp_path):
    notebook = write_notebook(tmp_path / "fails.ipynb", "x = 1", "print('before')", "1 / 0", "print('after')")
    job = service.create_job(CreateJob(input_uri=str(notebook)))
    done = _finished(service, job.job_id)
    assert done.status == Status.FAILED
    assert "ZeroDivisionError: division by zero" in done.status_message
    assert done.status_message.startswith("cell ")
    service.download_job_files(job.job_id, tmp_path / "out")
    outputs = "".join(cell_outputs(tmp_path / "out" / "fails.ipynb"))
    assert "before" in outputs
    assert "after" not in outputs


def test_the_same_idempotency_token_makes_one_job(service, tmp_path):
    notebook = write_notebook(tmp_path / "once.ipynb", "x = 1", "x")
    first = service.create_job(CreateJob(input_uri=str(notebook), idempotency_token="token-1"))
    second = service.create_job(CreateJob(input_uri=str(notebook), idempotency_token="token-1"))
    assert first.job_id == second.job_id
    assert _finished(service, first.job_id).status == Status.COMPLETED


def test_duplicate_dispatch_launches_one_fargate_task(stack, make_job):
    from shiftwork.dispatch import dispatch_job
    from shiftwork.launchers import FargateLauncher

    job = make_job()
    launcher = FargateLauncher()
    first = dispatch_job(job.job_id, launcher)
    second = dispatch_job(job.job_id, launcher)
    assert first.status == second.status == Status.QUEUED
    assert first.task_arn == second.task_arn
    tasks = aws.client("ecs").list_tasks(cluster="shiftwork", startedBy=job.job_id)["taskArns"]
    assert tasks == [first.task_arn]


def test_status_changes_are_conditional(make_job):
    job = make_job(Status.COMPLETED)
    with pytest.raises(Conflict, match="is COMPLETED, expected IN_PROGRESS"):
        jobs.update(job.job_id, [Status.IN_PROGRESS], status=Status.FAILED)
    assert jobs.get(job.job_id).status == Status.COMPLETED
    with pytest.raises(NotFound):
        jobs.update("00000000-0000-4000-8000-000000000000", [Status.IN_PROGRESS], status=Status.FAILED)


def test_lists_are_paginated_newest_first_and_filter_by_status(make_job):
    made = [make_job(Status.SKIPPED, name=f"page-{i}", create_time=10_000 + i) for i in range(5)]
    seen, token = [], None
    while True:
        page = jobs.list_jobs(ListJobsQuery(status=Status.SKIPPED, max_items=2, next_token=token))
        assert len(page.jobs) <= 2
        seen += [j.job_id for j in page.jobs]
        token = page.next_token
        if not token:
            break
    ours = {j.job_id for j in made}  # other tests' skipped jobs are newer and come first
    assert [job_id for job_id in seen if job_id in ours] == [j.job_id for j in reversed(made)]
    assert len(seen) == len(set(seen))  # no job on two pages (other modules' jobs may be older than ours)


def test_a_bad_next_token_is_a_clear_error():
    from shiftwork.errors import InvalidSpec

    with pytest.raises(InvalidSpec, match="next_token"):
        jobs.list_jobs(ListJobsQuery(next_token="not-a-token"))


def test_stopping_a_job_that_has_not_started_stops_it_outright(service, make_job):
    job = make_job(Status.QUEUED)
    assert service.stop_job(job.job_id).status == Status.STOPPED
    with pytest.raises(Conflict):
        service.stop_job(job.job_id)


def test_delete_removes_the_record_and_files_but_not_of_a_running_job(service, make_job):
    from shiftwork.store import files

    running = make_job(Status.IN_PROGRESS)
    with pytest.raises(Conflict, match="stop it first"):
        service.delete_job(running.job_id)
    done = make_job(Status.COMPLETED)
    service.delete_job(done.job_id)
    with pytest.raises(NotFound):
        service.get_job(done.job_id)
    assert list(files.iter_keys(f"jobs/{done.job_id}/")) == []


def test_the_event_queue_carries_task_state_changes_to_the_completion_handler(stack, make_job):
    """A task-stopped event put on EventBridge reaches the handler through the rule's SQS target."""
    from tests.helpers import load_event

    job = make_job(Status.IN_PROGRESS, task_arn="arn:aws:ecs:us-east-1:123456789012:task/shiftwork/crash1")
    event = load_event("ecs_task_state_change_stopped.json", job_id=job.job_id, task_arn=job.task_arn)
    aws.client("events").put_events(
        Entries=[{"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}]
    )
    failed = wait_for(lambda: (j := jobs.get(job.job_id)).status == Status.FAILED and j, timeout=30)
    assert "exit code 137" in failed.status_message


def test_a_run_now_request_on_the_dispatch_queue_runs_the_job(stack, service, make_job):
    from tests.helpers import load_event

    job = make_job(Status.CREATED, source="print('from the queue')")
    body = load_event("dispatch_run_now.json", job_id=job.job_id)
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=stack.info.dispatch_queue_url, MessageBody=json.dumps(body))
    sqs.send_message(QueueUrl=stack.info.dispatch_queue_url, MessageBody=json.dumps(body))  # delivered twice
    done = _finished(service, job.job_id)
    assert done.status == Status.COMPLETED
    ecs = aws.client("ecs")
    stopped = wait_for(
        lambda: ecs.list_tasks(cluster="shiftwork", startedBy=job.job_id, desiredStatus="STOPPED")["taskArns"]
    )
    running = ecs.list_tasks(cluster="shiftwork", startedBy=job.job_id, desiredStatus="RUNNING")["taskArns"]
    assert (len(stopped), len(running)) == (1, 0)


def test_the_local_launcher_runs_at_most_max_parallel_jobs(stack, service, make_job, tmp_path):
    from shiftwork.dispatch import dispatch_job
    from shiftwork.launchers.local import LocalLauncher

    launcher = LocalLauncher(tasks_dir=tmp_path / "tasks", max_parallel=1)
    try:
        first, second = (make_job(source="import time; time.sleep(2)") for _ in range(2))
        dispatch_job(first.job_id, launcher)
        dispatch_job(second.job_id, launcher)
        wait_for(lambda: jobs.get(first.job_id).status == Status.IN_PROGRESS)
        assert jobs.get(second.job_id).status == Status.QUEUED
        a, b = _finished(service, first.job_id), _finished(service, second.job_id)
        assert a.status == b.status == Status.COMPLETED
        assert b.start_time >= a.end_time
    finally:
        launcher.close()


def test_logs_outlive_their_cloudwatch_stream(service, tmp_path):
    """moto refuses log events older than 14 days on a restart's replay; the S3 archive still has them."""
    notebook = write_notebook(tmp_path / "talk.ipynb", "x = 1", "print('kept for later')")
    job = _finished(service, service.create_job(CreateJob(input_uri=str(notebook))).job_id)
    assert job.status == Status.COMPLETED
    wait_for(lambda: service._archived_logs(files.logs_key(job.job_id)))
    aws.client("logs").delete_log_stream(logGroupName=service.settings.log_group, logStreamName=job.log_stream)
    events, token = service.job_logs(job.job_id)
    assert "kept for later" in [e["message"] for e in events]
    assert service.job_logs(job.job_id, token) == ([], token)


@pytest.mark.parametrize("keep_warm", [True, False], ids=["warm", "cold"])
def test_a_notebook_without_kernel_metadata_runs_on_python3_every_time(stack, service, tmp_path, keep_warm):
    """nbformat.v4.new_notebook() names no kernel or language: papermill needs a language to write parameters
    ("No language found in notebook"), so a job with parameters failed. Both runner paths, five times each."""
    import nbformat

    from shiftwork.dispatch import dispatch_job
    from shiftwork.launchers.local import LocalLauncher
    from shiftwork.store import files

    notebook = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("n = 0")
    first.metadata["tags"] = ["parameters"]
    notebook.cells = [first, nbformat.v4.new_code_cell("print('n is', n)")]
    path = tmp_path / "bare.ipynb"
    nbformat.write(notebook, str(path))
    launcher = LocalLauncher(
        tasks_dir=tmp_path / "tasks", max_parallel=1, keep_warm=keep_warm, network=stack.ensure_ecs
    )
    try:
        for n in range(1, 6):
            job = jobs.draft(
                str(uuid.uuid4()),
                name="bare",
                status=Status.CREATED,
                input_filename=path.name,
                parameters={"n": n},
                output_formats=["ipynb"],
            )
            files.upload_file(path, files.input_prefix(job.job_id) + path.name)
            jobs.put_new(job)
            dispatch_job(job.job_id, launcher)
            done = wait_for(lambda job=job: (j := jobs.get(job.job_id)).is_terminal and j, timeout=90)
            assert (done.status, done.status_message) == (Status.COMPLETED, None)
            assert done.kernel_name == "python3"
            # the runner's output is all in once its task has stopped (the launcher drains it first)
            wait_for(
                lambda d=done: (
                    aws.client("ecs").describe_tasks(cluster="shiftwork", tasks=[d.task_arn])["tasks"][0]["lastStatus"]
                    == "STOPPED"
                )
            )
            lines = wait_for(lambda job=job: [e["message"] for e in service.job_logs(job.job_id)[0]], timeout=20)
            assert lines == [f"n is {n}"]  # the notebook's output and nothing else
    finally:
        launcher.close()


def test_the_service_refuses_a_kernel_the_runner_lacks_before_writing_anything(service, tmp_path):
    """What the REST API does with a notebook whose kernelspec is not installed: papermill's NoSuchKernel, as a
    400-class refusal, with no job record and no input snapshot left behind."""
    import nbformat

    from shiftwork.errors import InvalidSpec
    from shiftwork.models import CreateJobDefinition

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "model.ipynb"
    nbformat.write(notebook, str(path))
    before = {j.job_id for j in service.iter_jobs()}
    objects_before = _object_count(service.settings.bucket)
    for create in (
        lambda: service.create_job(CreateJob(input_uri=str(path))),
        lambda: service.definitions.create(CreateJobDefinition(input_uri=str(path))),
    ):
        with pytest.raises(InvalidSpec) as refused:
            create()
        assert refused.value.field == "kernel" and refused.value.value == "ir"
        assert "available: python3" in str(refused.value)
    assert {j.job_id for j in service.iter_jobs()} == before
    assert _object_count(service.settings.bucket) == objects_before
    job = _finished(service, service.create_job(CreateJob(input_uri=str(path), kernel_name="python3")).job_id)
    assert job.kernel_name == "python3"  # --kernel overrides the notebook's (x = 1 is valid Python too)


def _object_count(bucket: str) -> int:
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(page.get("KeyCount", 0) for page in pages)


def test_a_notebook_dropped_in_the_inbox_runs_with_its_own_kernel(service, tmp_path):
    """No submit step checks an S3 upload: the runner reads its kernelspec, records it, and refuses a missing one."""
    import nbformat

    def dropped(name: str, kernelspec: dict[str, str] | None) -> DescribeJob:
        notebook = nbformat.v4.new_notebook()
        if kernelspec:
            notebook.metadata["kernelspec"] = kernelspec
        notebook.cells = [nbformat.v4.new_code_cell("print('from the inbox')")]
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(notebook, str(path))
        key = f"inbox/kernels-{uuid.uuid4().hex[:8]}/{path.name}"
        service.upload(path, key)
        tag = f"s3://{service.settings.bucket}/{key}"
        job = wait_for(lambda: next((j for j in service.iter_jobs() if tag in j.tags), None), timeout=30)
        return _finished(service, job.job_id)

    bare = dropped("bare", None)
    assert (bare.status, bare.kernel_name) == (Status.COMPLETED, "python3")
    missing = dropped("r-model", {"name": "ir", "display_name": "R", "language": "R"})
    assert missing.status == Status.FAILED
    assert missing.status_message.startswith("kernel 'ir': is not installed (no such kernel, named by the notebook")
