"""LocalLauncher: ECS (moto) records the task; a subprocess stands in for the Fargate container.

It behaves like Fargate seen from outside: StopTask on the task SIGTERMs the process group and SIGKILLs it after
the stop timeout; output goes to CloudWatch Logs like the awslogs driver; when the process exits, the task is
stopped in ECS and an "ECS Task State Change" event goes to EventBridge, which routes it to the completion handler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import ENV_ENDPOINT_URL, ENV_TASK_ATTEMPT, ENV_TASK_ID
from shiftwork.errors import LaunchError
from shiftwork.launchers.base import LaunchedTask
from shiftwork.launchers.fargate import FargateLauncher
from shiftwork.launchers.log_pump import LogPump
from shiftwork.launchers.runner_process import WarmRunner, kill_leftover_runners, record_process, spawn_runner
from shiftwork.local.background import guarded, run_loop

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models import DescribeJob
    from shiftwork.models.workflow import DescribeTask

log = logging.getLogger(__name__)

TIMEOUT_GRACE_SECONDS = 30.0  # the runner enforces its own timeout; this is the backstop if it cannot
CHECK_SECONDS = 0.5  # how often ECS is asked which tasks were stopped
PUMP_WAIT_SECONDS = 10.0  # a task's end is reported once its output is sent, or after this long
REPORT_ATTEMPTS = 10  # a task's end that cannot be reported (ECS, EventBridge down) is tried this often
REMEMBERED_TASKS = 1000  # reported tasks a late duplicate launch still finds


@dataclass(eq=False)
class _Task:
    job_id: str  # the key a launch is deduped by: the job's id, or job.task.attempt for a workflow task
    environment: dict[str, str]
    timeout_seconds: float | None
    archive_key: str | None = None  # where its output is archived [default: the job's]
    launched: LaunchedTask | None = None  # set once ECS has recorded the task
    registered: threading.Event = field(default_factory=threading.Event)  # ECS answered; the pump runs if it can
    process: subprocess.Popen[bytes] | None = None
    scratch: Path | None = None  # its TMPDIR, as a container's own /tmp: removed when the task ends
    started_at: float = 0.0
    signalled_at: float | None = None
    ended_at: float = 0.0
    pump: LogPump | None = None
    stop_reason: str | None = None
    report_attempts: int = 0
    report_after: float = 0.0


def stop_reason(stop_requested: bool, stopped_reason: str | None, timeout_seconds: float | None) -> str:
    """Why the launcher stops a task: the StopTask's reason (which is optional), else the job's timeout."""
    if stop_requested:
        return stopped_reason or "Task stopped by StopTask (no reason given)"
    return f"timed out after {timeout_seconds:g} s" if timeout_seconds else "timed out"


class LocalLauncher(FargateLauncher):
    """Fargate's stand-in: at most max_parallel runner processes; the rest wait, QUEUED, for a slot.

    A pre-started ("warm") runner that has already imported papermill takes the next job, as a warm Lambda
    would; it receives exactly the environment a fresh subprocess would have been started with. Each task gets a
    scratch folder as its TMPDIR (the runner works in it), removed when the task ends, however it ends.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tasks_dir: Path,
        scratch_dir: Path | None = None,
        max_parallel: int | None = None,
        python: str = sys.executable,
        keep_warm: bool = True,
        network: Callable[[], tuple[list[str], list[str]]] | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        super().__init__(settings)
        self.max_parallel = max_parallel or self.settings.max_parallel_jobs
        self.tasks_dir = tasks_dir
        self.tasks_dir.mkdir(parents=True, exist_ok=True)
        self.scratch_dir = scratch_dir or tasks_dir.parent / "scratch"
        kill_leftover_runners(self.tasks_dir)
        shutil.rmtree(self.scratch_dir, ignore_errors=True)  # a killed stack's: one launcher owns the state dir
        self.scratch_dir.mkdir(parents=True)
        self._python = python
        self._keep_warm = keep_warm
        self._network = network
        self._poll_interval = poll_interval
        self._lock = threading.Condition()
        self._closing = threading.Event()
        self._pending: deque[_Task] = deque()
        self._running: dict[str, _Task] = {}
        self._ending: list[_Task] = []  # the process is gone (or never started); its end is not reported yet
        self._tasks: dict[str, _Task] = {}  # every task until reported: a duplicate launch finds its own here
        self._recent: OrderedDict[str, LaunchedTask | None] = OrderedDict()  # ... and a late one, a reported one
        self._last_check = 0.0
        self._warm: WarmRunner | None = None
        self._warm_task: WarmRunner | None = None  # a workflow task's: started with the first task
        if keep_warm:
            guarded("starting a warm runner", self._replenish_warm)
        self._monitor = threading.Thread(target=self._monitor_loop, daemon=True, name="local-launcher")
        self._monitor.start()

    # -- Launcher -------------------------------------------------------------------------------------------
    def container_environment(self, job: DescribeJob) -> dict[str, str]:
        environment = super().container_environment(job)
        if self.settings.endpoint_url:
            environment[ENV_ENDPOINT_URL] = self.settings.endpoint_url
        return environment

    def launch(self, job: DescribeJob) -> LaunchedTask:
        """Queue the process at once (it may start before ECS has answered), then record the task in ECS."""
        fresh = _Task(job.job_id, self.container_environment(job), job.timeout_seconds)
        return self._launch(fresh, partial(FargateLauncher.launch, self, job))

    def launch_task(self, job: DescribeJob, task: DescribeTask) -> LaunchedTask:
        """One task of a workflow run: a process with exactly its container's environment, deduped by attempt."""
        from shiftwork.workflows.results import tasks_prefix

        environment = {
            **self.container_environment(job),
            ENV_TASK_ID: task.task_id,
            ENV_TASK_ATTEMPT: str(task.attempt),
        }
        key = f"{job.job_id}.{task.task_id}.{task.attempt}"
        archive = f"{tasks_prefix(job.job_id)}{task.task_id}/logs/attempt-{task.attempt}.jsonl"
        fresh = _Task(key, environment, task.timeout_seconds, archive_key=archive)
        return self._launch(fresh, partial(FargateLauncher.launch_task, self, job, task))

    def _launch(self, fresh: _Task, register: Callable[[], LaunchedTask]) -> LaunchedTask:
        key = fresh.job_id
        with self._lock:
            task = self._tasks.get(key)
            first = task is None and key not in self._recent
            if first:  # a duplicate dispatch finds its task: one process per job (or task attempt)
                task = fresh
                self._tasks[key] = task
                self._pending.append(task)
                self._lock.notify_all()
            launched = task.launched if task is not None else self._recent[key]
        if task is not None:
            if first:
                self._register(task, register)
            task.registered.wait()
            launched = task.launched
        if launched is None:
            raise LaunchError(key, "ECS did not record the task")
        return launched

    def run_task_request(self, job: DescribeJob) -> dict[str, Any]:
        return self._with_network(super().run_task_request(job))

    def task_request(self, job: DescribeJob, task: DescribeTask) -> dict[str, Any]:
        return self._with_network(super().task_request(job, task))

    def _with_network(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._network is not None:  # the embedded stack makes its VPC only when the first task needs it
            subnets, groups = self._network()
            request["networkConfiguration"]["awsvpcConfiguration"].update(subnets=subnets, securityGroups=groups)
        return request

    def _register(self, task: _Task, register: Callable[[], LaunchedTask]) -> None:
        """Record the task in ECS; whoever then sees it registered sees its log pump running, if it has one."""
        launched = None
        try:
            launched = register()
        except Exception as error:
            self._abandon(task)
            raise LaunchError(task.job_id, str(error)) from error
        finally:
            with self._lock:
                task.launched = launched
                self._start_pump(task)
                task.registered.set()

    def _abandon(self, task: _Task) -> None:
        with self._lock:
            if task in self._pending:
                self._pending.remove(task)
                self._forget(task)  # never started: nothing of it is left to report
        self._signal(task, signal.SIGKILL)

    def _forget(self, task: _Task) -> None:
        """Drop a finished task, keeping only its LaunchedTask (bounded) for a late duplicate launch."""
        if self._tasks.get(task.job_id) is task:
            del self._tasks[task.job_id]
        self._recent[task.job_id] = task.launched
        while len(self._recent) > REMEMBERED_TASKS:
            self._recent.popitem(last=False)

    def close(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL) and report each task as stopped."""
        with self._lock:
            self._closing.set()
            running = list(self._running.values())
            self._running.clear()
            warm, self._warm = self._warm, None
            warm_task, self._warm_task = self._warm_task, None
            self._lock.notify_all()
        self._monitor.join()
        for spare in (warm, warm_task):
            if spare is not None:
                spare.discard()
        for task in running:
            self._signal(task, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.stop_timeout_seconds
        for task in running:
            assert task.process is not None
            try:
                task.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(task, signal.SIGKILL)
                task.process.wait()
            task.stop_reason = task.stop_reason or "the embedded stack shut down"
        with self._lock:
            ending, self._ending = [*self._ending, *running], []
        for task in ending:
            task.registered.wait(60)  # a launch still waiting for ECS: its record is needed to report it
            guarded(f"reporting the end of job {task.job_id}", partial(self._report, task))

    # -- processes --------------------------------------------------------------------------------------------
    def _replenish_warm(self) -> None:
        self._warm = WarmRunner.spawn(self._python, self.scratch_dir)

    def _replenish_warm_task(self) -> None:
        self._warm_task = WarmRunner.spawn(self._python, self.scratch_dir, light=True)

    def _process_for(self, task: _Task) -> tuple[subprocess.Popen[bytes], Path]:
        """The warm runner, handed this task's environment, or a fresh `python -m shiftwork.runner`; its scratch."""
        if ENV_TASK_ID in task.environment:  # a workflow task: the light warm runner (no papermill, no kernel)
            warm, self._warm_task = self._warm_task, None
            if self._keep_warm:
                guarded("starting a warm task runner", self._replenish_warm_task)
        else:
            warm, self._warm = self._warm, None
            if self._keep_warm:
                guarded("starting a warm runner", self._replenish_warm)
        environment = {**os.environ, **task.environment}
        if warm is not None:
            if warm.hand_over(environment):
                return warm.process, warm.scratch
            warm.discard()
        return spawn_runner(self._python, self.scratch_dir, environment)

    def _start(self, task: _Task) -> None:
        task.process, task.scratch = self._process_for(task)
        task.started_at = time.monotonic()
        self._running[task.job_id] = task
        record_process(self._record_path(task), task.process.pid)
        self._start_pump(task)

    def _start_pending(self) -> None:
        """Start queued tasks while slots are free (under the lock); a task that cannot start ends, saying why."""
        while self._pending and len(self._running) < self.max_parallel and not self._closing.is_set():
            task = self._pending.popleft()
            try:
                self._start(task)
            except Exception as error:
                log.exception("the runner of job %s could not start", task.job_id)
                self._running.pop(task.job_id, None)
                self._signal(task, signal.SIGKILL)
                task.stop_reason = f"the runner could not start: {type(error).__name__}: {error}"
                self._end(task)

    def _start_pump(self, task: _Task) -> None:
        """Logs go to the task's stream once both the process and its ECS task exist (called under the lock)."""
        if task.pump is not None or task.process is None or task.launched is None:
            return
        assert task.process.stdout is not None
        task.pump = LogPump(task.process.stdout, self.settings, task.launched.log_stream, task.job_id, task.archive_key)
        task.pump.start()

    def _end(self, task: _Task) -> None:
        task.ended_at = time.monotonic()
        self._ending.append(task)

    def _record_path(self, task: _Task) -> Path:
        return self.tasks_dir / f"{task.job_id}.json"

    def _signal(self, task: _Task, signum: int) -> None:
        if task.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(task.process.pid, signum)

    # -- the monitor thread -----------------------------------------------------------------------------------
    def _monitor_loop(self) -> None:
        run_loop("the local launcher's monitor", self._monitor_step, self._closing)

    def _monitor_step(self) -> None:
        with self._lock:
            for task in [t for t in self._running.values() if t.process is not None and t.process.poll() is not None]:
                del self._running[task.job_id]
                self._end(task)
            self._start_pending()
        reported = self._report_ended()
        now = time.monotonic()
        if now - self._last_check > CHECK_SECONDS:
            self._last_check = now
            self._check_stops_and_timeouts(now)
        with self._lock:
            if not self._closing.is_set() and not reported:
                self._lock.wait(self._poll_interval)

    def _report_ended(self) -> bool:
        """Report every ended task that is registered and whose output is sent (or given up on); a report that
        fails is tried again a little later, REPORT_ATTEMPTS times. True if any task was ready."""
        now = time.monotonic()
        with self._lock:
            ready = [
                t for t in self._ending if t.registered.is_set() and now >= t.report_after and _output_sent(t, now)
            ]
        for task in ready:
            if not guarded(f"reporting the end of job {task.job_id}", partial(self._report, task)):
                task.report_attempts += 1
                task.report_after = now + 1.0
                if task.report_attempts < REPORT_ATTEMPTS:
                    continue
                log.error("gave up reporting the end of job %s: it stays as it is until the next start", task.job_id)
            with self._lock:
                self._ending.remove(task)
                self._forget(task)
        return bool(ready)

    def _report(self, task: _Task) -> None:
        """The container is gone: remove its scratch, stop the task in ECS and publish the ECS Task State Change."""
        exit_code = None
        if task.process is not None:
            code = task.process.wait()
            exit_code = 128 - code if code < 0 else code  # a signal shows as 128+N, as in a container
        if task.pump is not None:
            task.pump.join(max(0.0, task.ended_at + PUMP_WAIT_SECONDS - time.monotonic()))
        if task.process is not None and task.process.stdout is not None and not (task.pump and task.pump.is_alive()):
            task.process.stdout.close()  # not left to the garbage collector: a busy stack would run out of fds
        self._record_path(task).unlink(missing_ok=True)
        if task.scratch is not None:
            shutil.rmtree(task.scratch, ignore_errors=True)
        if task.launched is not None:  # else ECS never recorded it: the dispatcher was told the launch failed
            reason = task.stop_reason or "Essential container in task exited"
            publish_task_stopped(self.settings, task.launched.task_arn, task.job_id, exit_code, reason)

    def _check_stops_and_timeouts(self, now: float) -> None:
        with self._lock:
            watched = [t for t in (*self._running.values(), *self._pending) if t.launched is not None]
        if not watched:
            return
        ecs = aws.client("ecs", self.settings)
        arns = [t.launched.task_arn for t in watched if t.launched]
        described: dict[str, dict[str, Any]] = {}
        for start in range(0, len(arns), 100):
            response = ecs.describe_tasks(cluster=self.settings.cluster, tasks=arns[start : start + 100])
            described.update({t["taskArn"]: t for t in response.get("tasks", [])})
        for task in watched:
            assert task.launched is not None
            self._enforce(task, described.get(task.launched.task_arn, {}), now)

    def _enforce(self, task: _Task, info: dict[str, Any], now: float) -> None:
        """Act on a StopTask (or the job's timeout): SIGTERM, then SIGKILL after the stop timeout."""
        stop_requested = info.get("desiredStatus") == "STOPPED"
        if task.process is None:
            with self._lock:
                if stop_requested and task in self._pending:
                    self._pending.remove(task)
                    task.stop_reason = info.get("stoppedReason") or "Task stopped before it started"
                    self._end(task)
            return
        timeout = task.timeout_seconds
        timed_out = bool(timeout) and now - task.started_at > (timeout or 0) + TIMEOUT_GRACE_SECONDS
        if task.signalled_at is None and (stop_requested or timed_out):
            task.stop_reason = stop_reason(stop_requested, info.get("stoppedReason"), timeout)
            task.signalled_at = now
            self._signal(task, signal.SIGTERM)
        elif task.signalled_at is not None and now - task.signalled_at > self.settings.stop_timeout_seconds:
            self._signal(task, signal.SIGKILL)


def _output_sent(task: _Task, now: float) -> bool:
    """The task's output is all in its log stream, or it has had PUMP_WAIT_SECONDS to get there."""
    return task.pump is None or not task.pump.is_alive() or now - task.ended_at > PUMP_WAIT_SECONDS


def publish_task_stopped(settings: Settings, task_arn: str, job_id: str, exit_code: int | None, reason: str) -> None:
    """Stop the task in ECS (if it is not already) and put the event ECS would send on EventBridge."""
    ecs = aws.client("ecs", settings)
    described = ecs.describe_tasks(cluster=settings.cluster, tasks=[task_arn]).get("tasks", [])
    user_initiated = bool(described) and described[0].get("desiredStatus") == "STOPPED"
    if not user_initiated:
        ecs.stop_task(cluster=settings.cluster, task=task_arn, reason=reason)
        described = ecs.describe_tasks(cluster=settings.cluster, tasks=[task_arn]).get("tasks", [])
    task = described[0] if described else {"taskArn": task_arn}
    stop_code = "UserInitiated" if user_initiated else "EssentialContainerExited"
    detail = {
        "clusterArn": task.get("clusterArn"),
        "taskArn": task_arn,
        "taskDefinitionArn": task.get("taskDefinitionArn"),
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "launchType": "FARGATE",
        "startedBy": task.get("startedBy", job_id),
        "stopCode": stop_code,
        "stoppedReason": task.get("stoppedReason") or reason,
        "stoppedAt": datetime.now(UTC).isoformat(),
        "containers": [
            {"name": settings.container_name, "lastStatus": "STOPPED", "exitCode": exit_code, "taskArn": task_arn}
        ],
        "overrides": _jsonable(task.get("overrides", {})),
    }
    aws.client("events", settings).put_events(
        Entries=[
            {
                "Source": "aws.ecs",
                "DetailType": "ECS Task State Change",
                "Resources": [task_arn],
                "Detail": json.dumps(detail),
            }
        ]
    )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
