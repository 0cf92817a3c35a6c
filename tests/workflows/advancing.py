"""What the advancing tests share: a recording launcher, runs made in the store, the runner's writes, deliveries."""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shiftwork import aws
from shiftwork.api.events import on_task_stopped
from shiftwork.config import get_settings
from shiftwork.errors import Conflict
from shiftwork.launchers import FargateLauncher, LaunchedTask, Launcher
from shiftwork.models import DescribeJob, Status
from shiftwork.models.workflow import WORKFLOW_SPEC_FILE, DescribeTask, TaskSpec, TaskStatus, WorkflowSpec
from shiftwork.store import files, jobs, slots, tasks
from shiftwork.workflows import results
from shiftwork.workflows.advance import launcher_for, start_run

THREADS = 8
Launch = tuple[str, str, int]  # (run, task, attempt)
DIES = object()  # a runner's outcome: killed (OOM, the host lost) before writing anything


class RecordingLauncher(Launcher):
    """Counts each launch_task (run, task, attempt) and starts nothing; `crash_once` tasks raise on their first."""

    def __init__(self, ecs: bool = False) -> None:
        self.lock = threading.Lock()
        self.launches: list[Launch] = []
        self.details: dict[Launch, dict[str, Any]] = {}  # each launch's overrides, as ECS would echo them
        self.crash_once: set[str] = set()
        self.on_launch: Callable[[DescribeJob, DescribeTask, str], None] | None = None
        self.ecs = FargateLauncher(get_settings()) if ecs else None  # record the task in moto's ECS

    def launch(self, job: DescribeJob) -> LaunchedTask:
        raise AssertionError(f"a notebook launch for {job.job_id}: runs launch their tasks")

    def launch_task(self, job: DescribeJob, task: DescribeTask) -> LaunchedTask:
        with self.lock:
            if task.task_id in self.crash_once:
                self.crash_once.discard(task.task_id)
                raise RuntimeError(f"the handler died launching {task.task_id}")
        if self.ecs is not None:
            launched = self.ecs.launch_task(job, task)
        else:
            arn = f"arn:aws:ecs:us-east-1:123456789012:task/shiftwork/{uuid.uuid4().hex}"
            launched = LaunchedTask(arn, f"runner/runner/{arn.rsplit('/', 1)[-1]}", task.requested)
        key = (job.job_id, task.task_id, task.attempt)
        request = FargateLauncher(get_settings()).task_request(job, task)
        with self.lock:
            self.launches.append(key)
            self.details[key] = {"taskArn": launched.task_arn, "overrides": request["overrides"]}
        if self.on_launch is not None:
            self.on_launch(job, task, launched.task_arn)
        return launched

    def stop(self, task_arn: str, reason: str) -> None:
        raise AssertionError("runs are stopped through the store and ECS")

    def counts(self, run_id: str) -> Counter[tuple[str, int]]:
        with self.lock:
            return Counter((task, attempt) for job, task, attempt in self.launches if job == run_id)


def workflow(name: str, task_specs: list[TaskSpec]) -> WorkflowSpec:
    return WorkflowSpec(name=name, function="pipe:flow", module_file="pipe.py", tasks=task_specs)


def task_spec(name: str, *refs: str, retries: int = 0, **arguments: Any) -> TaskSpec:
    args = {f"in_{i}": {"$ref": ref} for i, ref in enumerate(refs)} | arguments
    return TaskSpec(name=name, function=f"pipe:{name}", arguments=args, retries=retries)


def diamond() -> WorkflowSpec:
    return workflow("diamond", [task_spec("a"), task_spec("b", "a"), task_spec("c", "a"), task_spec("d", "b", "c")])


def fan_out() -> WorkflowSpec:
    square = TaskSpec(name="sq", function="pipe:sq", arguments={"x": {"$ref": "src"}}, map_argument="x")
    return workflow("fan-out", [task_spec("src"), square, task_spec("total", "sq")])


def fan_in() -> WorkflowSpec:
    roots = [task_spec(f"r{i}") for i in range(10)]
    return workflow("fan-in", [*roots, task_spec("join", *(f"r{i}" for i in range(10)))])


def make_run(spec: WorkflowSpec, definition_id: str | None = None, status: Status = Status.QUEUED) -> DescribeJob:
    """A run's record and its snapshot's spec file, as the API writes them (no dispatch asked for)."""
    settings = get_settings()
    job_id = str(uuid.uuid4())
    key = files.input_prefix(job_id) + WORKFLOW_SPEC_FILE
    aws.client("s3", settings).put_object(Bucket=settings.bucket, Key=key, Body=spec.model_dump_json().encode())
    job = jobs.draft(
        job_id,
        name=spec.name,
        status=status,
        input_filename=spec.module_file,
        parameters={},
        output_formats=[],
        kind="workflow",
        job_definition_id=definition_id,
    )
    return slots.admit(job) if definition_id else jobs.put_new(job)


def hold_slot(definition_id: str) -> DescribeJob:
    """Another job of the definition holding a slot: a run that gave back two would show."""
    job = jobs.draft(str(uuid.uuid4()), name="holder", status=Status.CREATED, input_filename="n.ipynb")
    return slots.admit(job.model_copy(update={"job_definition_id": definition_id}))


def stop_detail(recorder: RecordingLauncher, launch: Launch, exit_code: int = 0, reason: str = "") -> dict[str, Any]:
    """The ECS Task State Change detail of the launch's container stopping (see publish_task_stopped)."""
    recorded = recorder.details[launch]
    return {
        "taskArn": recorded["taskArn"],
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "launchType": "FARGATE",
        "startedBy": launch[0][:36],
        "stopCode": "EssentialContainerExited",
        "stoppedReason": reason or "Essential container in task exited",
        "containers": [{"name": "runner", "lastStatus": "STOPPED", "exitCode": exit_code}],
        "overrides": recorded["overrides"],
    }


def deliver(detail: dict[str, Any]) -> None:
    """What the completion Lambda does with the event (handle_task_state_change, then after_job_ended)."""
    time.sleep(random.uniform(0, 0.004))  # shuffle the order the pool's threads take them in
    on_task_stopped(detail)


def run_task(job_id: str, task_id: str, outcome: Any) -> None:
    """The runner's writes: QUEUED -> IN_PROGRESS, then COMPLETED with its result (or FAILED for an exception).

    As the runner, it runs nothing if the task is not QUEUED (a duplicate launch): its container just exits.
    """
    try:
        tasks.update(job_id, task_id, [TaskStatus.QUEUED], status=TaskStatus.IN_PROGRESS, start_time=tasks.now_ms())
    except Conflict:
        return
    if outcome is DIES:
        return  # killed before it could report: only its container's stop tells
    if isinstance(outcome, Exception):
        end = {"status": TaskStatus.FAILED, "status_message": f"{type(outcome).__name__}: {outcome}"}
    else:
        key, fmt, length = results.write(job_id, task_id, outcome)
        end = {"status": TaskStatus.COMPLETED, "result_key": key, "result_format": fmt, "result_length": length}
    with contextlib.suppress(Conflict):  # as the runner: the task ended meanwhile (stopped)
        tasks.update(job_id, task_id, [TaskStatus.IN_PROGRESS], end_time=tasks.now_ms(), **end)


@dataclass
class Driver:
    """Runs each launched task on a pool of threads and delivers its end 1-3 times, in shuffled order."""

    recorder: RecordingLauncher
    outcome: Callable[[str, int], Any] = lambda task_id, attempt: list(range(20)) if task_id == "src" else task_id
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(THREADS))
    futures: list[Future[Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.recorder.on_launch = lambda job, task, _arn: self._submit(
            self._run, (job.job_id, task.task_id, task.attempt)
        )

    def _submit(self, function: Callable[..., Any], *args: Any) -> None:
        with self.lock:
            self.futures.append(self.pool.submit(function, *args))

    def _run(self, launch: Launch) -> None:
        outcome = self.outcome(launch[1], launch[2])
        run_task(*launch[:2], outcome)
        detail = stop_detail(self.recorder, launch, exit_code=1 if isinstance(outcome, Exception) else 0)
        with self.lock:
            self.delivered.append(detail)
        for _ in range(random.randint(1, 3)):
            self._submit(deliver, detail)

    def settle(self, timeout: float = 30) -> None:
        """Wait until no work is left (raising what a handler raised)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                pending = [f for f in self.futures if not f.done()]
                done = [f for f in self.futures if f.done()]
            for future in done:
                future.result()
            if not pending:
                return
            assert time.monotonic() < deadline, f"{len(pending)} handlers still running after {timeout} s"
            time.sleep(0.01)

    def redeliver_all(self) -> None:
        """Every end once more, all at once: duplicates arriving after the run ended."""
        late = list(self.delivered)
        random.shuffle(late)
        for detail in late:
            self._submit(deliver, detail)
        self.settle()

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def statuses_of(run_id: str) -> dict[str, TaskStatus]:
    return {task.task_id: task.status for task in tasks.list_for(run_id)}


def launchable(run_id: str) -> list[str]:
    """The task ids a launcher runs: all but the mapped tasks (their instances run)."""
    return [task.task_id for task in tasks.list_for(run_id) if task.map_count is None]


def at_once(function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(function, items))


def start(run: DescribeJob) -> DescribeJob:
    return start_run(jobs.get(run.job_id), launcher_for())


def finish(
    recorder: RecordingLauncher, run: DescribeJob, task_id: str, outcome: Any = "done", times: int = 3, reason: str = ""
) -> None:
    """Run the task's latest launch and deliver its container's stop `times` times at once."""
    attempt = tasks.get(run.job_id, task_id).attempt
    run_task(run.job_id, task_id, outcome)
    exit_code = 0 if outcome is not DIES and not isinstance(outcome, Exception) else 137
    at_once(deliver, [stop_detail(recorder, (run.job_id, task_id, attempt), exit_code, reason)] * times)


def run_task_end(job_id: str, task_id: str, value: Any) -> None:
    key, fmt, length = results.write(job_id, task_id, value)
    tasks.update(
        job_id,
        task_id,
        [TaskStatus.IN_PROGRESS],
        status=TaskStatus.COMPLETED,
        result_key=key,
        result_format=fmt,
        result_length=length,
        end_time=tasks.now_ms(),
    )


OOM = "OutOfMemoryError: Container killed due to memory usage"
