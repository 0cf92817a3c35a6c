"""Light tasks on the Lambda executor: the task function runs one attempt; complete advances on its outcome."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from shiftwork.api.service import Service
from shiftwork.launchers import LaunchedTask, Launcher, use_task_executor
from shiftwork.models import Status
from shiftwork.models.workflow import RunWorkflow, TaskStatus
from tests.helpers import load_event

CHAIN = """
from shiftwork import task, workflow

@task(executor="lambda")
def numbers(n: int) -> list[int]:
    print("making", n, "numbers")
    return list(range(n))

@task(executor="lambda", memory="1g")
def total(xs: list[int]) -> int:
    return sum(xs)

@task(executor="lambda")
def double(x: int) -> int:
    return 2 * x

@workflow(name="light-chain")
def chain(n: int = 4):
    double(total(numbers(n)))
"""


@pytest.fixture
def light(write_workflow):
    return write_workflow("light_chain", CHAIN, "chain")


def test_a_chain_of_light_tasks_runs_in_warm_workers(stack, light):
    service = Service()
    run = light.run(using=service, n=5)
    done = run.wait(timeout=120)
    assert done.status == Status.COMPLETED, done.status_message
    assert run.result("double") == 20
    assert run.logs("numbers") == "making 5 numbers"  # the task's own output, in its own stream
    sized = {t.task_id: t.resources for t in run.details().tasks}
    assert sized["total"].memory_mb == 1024 and sized["numbers"].memory_mb == 512  # Lambda's memory, per task


class Recording(Launcher):
    """Records each launch and starts nothing: the test plays the Lambda service."""

    def __init__(self) -> None:
        self.launched: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def launch(self, job):  # pragma: no cover - the task executor launches tasks only
        raise NotImplementedError

    def launch_task(self, job, task):
        with self._lock:
            self.launched.append((task.task_id, task.attempt))
        return LaunchedTask(f"lambda:{uuid.uuid4()}", f"lambda/{job.job_id}/{task.task_id}/{task.attempt}")

    def stop(self, task_arn, reason):  # pragma: no cover
        pass


@pytest.fixture
def recording(stack) -> Iterator[Recording]:
    executor = Recording()
    use_task_executor(executor)
    yield executor
    use_task_executor(stack.task_executor)


def _started(service: Service, light: object, recording: Recording) -> str:
    from shiftwork.dispatch import dispatch_job
    from shiftwork.launchers import default_launcher
    from tests.functional.conftest import wait_for

    job = service.workflows.run(RunWorkflow(spec=light.spec(), parameters={"n": 3}), light.code_files())
    dispatch_job(job.job_id, default_launcher())  # a second delivery, racing the dispatch queue's own
    wait_for(lambda: recording.launched)
    assert recording.launched == [("numbers", 1)]  # launched once, however many deliveries
    return job.job_id


def _record(condition: str, job_id: str, task_id: str) -> dict:
    event = load_event("task_function_timed_out.json", job_id=job_id, task_id=task_id, function_arn="arn:fn")
    event["detail"]["requestContext"]["condition"] = condition
    if condition == "Success":
        event["detail-type"] = "Lambda Function Invocation Result - Success"
    return event


def test_the_task_function_runs_its_task_and_complete_advances_on_its_outcome(service, light, recording):
    from shiftwork.local.lambdas import invoke

    run_id = _started(service, light, recording)
    answer = invoke("task", {"job_id": run_id, "task_id": "numbers", "attempt": 1})
    assert answer["ran"] is True
    assert service.workflows.task(run_id, "numbers").status == TaskStatus.COMPLETED
    assert recording.launched == [("numbers", 1)]  # the function itself launches nothing
    for _ in range(3):  # Lambda's destination records are at least once
        invoke("complete", _record("Success", run_id, "numbers"))
    assert recording.launched == [("numbers", 1), ("total", 1)]  # the dependent launched once
    again = invoke("task", {"job_id": run_id, "task_id": "numbers", "attempt": 1})
    assert again["ran"] is False  # a repeated delivery of the event runs nothing


def test_a_timed_out_invocation_fails_its_task_and_everything_downstream(service, light, recording):
    from shiftwork.local.lambdas import invoke

    run_id = _started(service, light, recording)
    invoke("complete", _record("RetriesExhausted", run_id, "numbers"))  # killed at its timeout, never reported
    states = {t.task_id: t.status for t in service.workflows.tasks(run_id)}
    assert states == {"numbers": "FAILED", "total": "UPSTREAM_FAILED", "double": "UPSTREAM_FAILED"}
    run = service.get_job(run_id)
    assert run.status == Status.FAILED and "numbers" in (run.status_message or "")
    assert recording.launched == [("numbers", 1)]


def test_a_warm_worker_stages_a_runs_code_from_s3_once(stack, tmp_path):
    from shiftwork.runner.task import stage_code
    from shiftwork.store import files

    (tmp_path / "mod.py").write_text("X = 1\n")
    prefix = f"jobs/{uuid.uuid4()}/input/"
    files.upload_tree({"mod.py": tmp_path / "mod.py"}, prefix)
    stage_code(prefix, tmp_path / "first")
    files.delete_prefix(prefix)  # a snapshot never changes: the second task of the run reads the worker's copy
    stage_code(prefix, tmp_path / "second")
    assert (tmp_path / "second" / "mod.py").read_text() == "X = 1\n"
