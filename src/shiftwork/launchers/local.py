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
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import ENV_ENDPOINT_URL
from shiftwork.errors import LaunchError
from shiftwork.launchers.base import LaunchedTask
from shiftwork.launchers.fargate import FargateLauncher
from shiftwork.store import files

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models import DescribeJob

log = logging.getLogger(__name__)

TIMEOUT_GRACE_SECONDS = 30.0  # the runner enforces its own timeout; this is the backstop if it cannot


@dataclass
class _Task:
    job_id: str
    environment: dict[str, str]
    timeout_seconds: float | None
    launched: LaunchedTask | None = None  # set once ECS has recorded the task
    registered: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    signalled_at: float | None = None
    pump: threading.Thread | None = None
    stop_reason: str | None = None


def process_start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a live pid from a reused one)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def kill_recorded_process(record: Path) -> bool:
    """Kill the process group a task record names, if that very process still runs; remove the record."""
    try:
        data = json.loads(record.read_text())
        if process_start_ticks(data["pid"]) == data["start_ticks"]:
            os.killpg(data["pid"], signal.SIGKILL)
            return True
    except (OSError, ValueError, KeyError):
        pass
    finally:
        record.unlink(missing_ok=True)
    return False


class _LogPump(threading.Thread):
    """Copies a process's output to CloudWatch Logs in batches, as the awslogs driver does.

    It also archives the whole output in S3 (logs_key), because moto refuses log events older than 14 days:
    without the archive, a restart of the embedded stack would lose the logs of older jobs.
    """

    def __init__(self, stream: IO[bytes], launcher: LocalLauncher, log_stream: str, job_id: str) -> None:
        super().__init__(daemon=True, name=f"logs-{log_stream[-8:]}")
        self._stream = stream
        self._settings = launcher.settings
        self._log_stream = log_stream
        self._job_id = job_id
        self._lines: deque[tuple[int, str]] = deque()
        self._archive: IO[bytes] | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        logs = aws.client("logs", self._settings)
        logs.create_log_stream(logGroupName=self._settings.log_group, logStreamName=self._log_stream)
        with tempfile.SpooledTemporaryFile(max_size=1 << 20) as archive:
            self._archive = archive
            flusher = threading.Thread(target=self._flush_every, args=(logs,), daemon=True)
            self._open = True
            flusher.start()
            for raw in iter(self._stream.readline, b""):
                with self._lock:
                    self._lines.append((int(time.time() * 1000), raw.decode("utf-8", "replace").rstrip("\n")))
            self._open = False
            flusher.join()
            self._flush(logs)
            archive.seek(0)
            aws.client("s3", self._settings).put_object(
                Bucket=self._settings.bucket, Key=files.logs_key(self._job_id), Body=archive.read()
            )

    def _flush_every(self, logs: Any) -> None:
        while self._open:
            time.sleep(0.3)
            self._flush(logs)

    def _flush(self, logs: Any) -> None:
        with self._lock:
            batch = [{"timestamp": ts, "message": msg or " "} for ts, msg in self._lines]
            self._lines.clear()
        for event in batch:
            if self._archive is not None:
                self._archive.write(json.dumps(event).encode() + b"\n")
        for start in range(0, len(batch), 5000):
            logs.put_log_events(
                logGroupName=self._settings.log_group,
                logStreamName=self._log_stream,
                logEvents=batch[start : start + 5000],
            )


class LocalLauncher(FargateLauncher):
    """Fargate's stand-in: at most max_parallel runner processes; the rest wait, QUEUED, for a slot.

    A pre-started ("warm") runner that has already imported papermill takes the next job, as a warm Lambda
    would; it receives exactly the environment a fresh subprocess would have been started with.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tasks_dir: Path,
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
        self._python = python
        self._keep_warm = keep_warm
        self._network = network
        self._poll_interval = poll_interval
        self._lock = threading.Condition()
        self._pending: deque[_Task] = deque()
        self._running: dict[str, _Task] = {}
        self._tasks: dict[str, _Task] = {}
        self._closed = False
        self._warm = self._spawn_warm() if keep_warm else None
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
        with self._lock:
            task = self._tasks.get(job.job_id)
            first = task is None
            if task is None:  # a duplicate dispatch finds its task here: one process per job
                task = _Task(job.job_id, self.container_environment(job), job.timeout_seconds)
                self._tasks[job.job_id] = task
                self._pending.append(task)
                self._lock.notify_all()
        if first:
            try:
                task.launched = super().launch(job)
            except Exception as error:
                self._abandon(task)
                raise LaunchError(job.job_id, str(error)) from error
            finally:
                task.registered.set()
            self._start_pump(task)
        task.registered.wait()
        if task.launched is None:
            raise LaunchError(job.job_id, "ECS did not record the task")
        return task.launched

    def run_task_request(self, job: DescribeJob) -> dict[str, Any]:
        request = super().run_task_request(job)
        if self._network is not None:  # the embedded stack makes its VPC only when the first task needs it
            subnets, groups = self._network()
            request["networkConfiguration"]["awsvpcConfiguration"].update(subnets=subnets, securityGroups=groups)
        return request

    def _abandon(self, task: _Task) -> None:
        with self._lock:
            if task in self._pending:
                self._pending.remove(task)
        self._signal(task, signal.SIGKILL)

    def close(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL) and report each task as stopped."""
        with self._lock:
            self._closed = True
            tasks = list(self._running.values())
            warm, self._warm = self._warm, None
            self._lock.notify_all()
        self._monitor.join()
        if warm is not None:
            warm.kill()
            warm.wait()
        for task in tasks:
            self._signal(task, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.stop_timeout_seconds
        for task in tasks:
            assert task.process is not None
            try:
                task.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(task, signal.SIGKILL)
                task.process.wait()
            task.stop_reason = task.stop_reason or "the embedded stack shut down"
            self._finish(task)

    # -- processes --------------------------------------------------------------------------------------------
    def _spawn_warm(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self._python, "-m", "shiftwork.runner", "--warm"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stop reaches the kernel it starts
        )

    def _process_for(self, task: _Task) -> subprocess.Popen[bytes]:
        """The warm runner, handed this task's environment, or a fresh `python -m shiftwork.runner`."""
        environment = {**os.environ, **task.environment}
        warm, self._warm = self._warm, None
        if self._keep_warm:
            self._warm = self._spawn_warm()
        if warm is not None and warm.poll() is None and warm.stdin is not None:
            try:
                warm.stdin.write(json.dumps(environment).encode() + b"\n")
                warm.stdin.close()
                return warm
            except BrokenPipeError:
                warm.kill()
        return subprocess.Popen(
            [self._python, "-m", "shiftwork.runner"],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _start(self, task: _Task) -> None:
        task.process = self._process_for(task)
        task.started_at = time.monotonic()
        record = {"pid": task.process.pid, "start_ticks": process_start_ticks(task.process.pid)}
        self._record_path(task).write_text(json.dumps(record))
        self._running[task.job_id] = task

    def _start_pump(self, task: _Task) -> None:
        """Logs go to the task's stream once both the process and its ECS task exist."""
        with self._lock:
            if task.pump is not None or task.process is None or task.launched is None:
                return
            assert task.process.stdout is not None
            task.pump = _LogPump(task.process.stdout, self, task.launched.log_stream, task.job_id)
            task.pump.start()

    def _record_path(self, task: _Task) -> Path:
        return self.tasks_dir / f"{task.job_id}.json"

    def _signal(self, task: _Task, signum: int) -> None:
        if task.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(task.process.pid, signum)

    # -- the monitor thread -----------------------------------------------------------------------------------
    def _monitor_loop(self) -> None:
        last_check = 0.0
        while True:
            started: list[_Task] = []
            with self._lock:
                if self._closed:
                    return
                finished = [t for t in self._running.values() if t.process and t.process.poll() is not None]
                for task in finished:
                    del self._running[task.job_id]
                while self._pending and len(self._running) < self.max_parallel:
                    task = self._pending.popleft()
                    self._start(task)
                    started.append(task)
            for task in started:
                self._start_pump(task)
            for task in finished:
                self._finish(task)
            now = time.monotonic()
            if now - last_check > 0.5:
                last_check = now
                self._check_stops_and_timeouts(now)
            with self._lock:
                if not self._closed and not finished:
                    self._lock.wait(self._poll_interval)

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
            info = described.get(task.launched.task_arn, {})
            stop_requested = info.get("desiredStatus") == "STOPPED"
            if task.process is None:
                if stop_requested:
                    with self._lock:
                        if task in self._pending:
                            self._pending.remove(task)
                    task.stop_reason = info.get("stoppedReason") or "Task stopped before it started"
                    self._finish(task)
                continue
            timed_out = task.timeout_seconds and now - task.started_at > task.timeout_seconds + TIMEOUT_GRACE_SECONDS
            if task.signalled_at is None and (stop_requested or timed_out):
                task.stop_reason = info.get("stoppedReason") if stop_requested else None
                task.stop_reason = task.stop_reason or f"timed out after {task.timeout_seconds:g} s"
                task.signalled_at = now
                self._signal(task, signal.SIGTERM)
            elif task.signalled_at is not None and now - task.signalled_at > self.settings.stop_timeout_seconds:
                self._signal(task, signal.SIGKILL)

    def _finish(self, task: _Task) -> None:
        """The container is gone: stop the task in ECS and publish the ECS Task State Change event."""
        exit_code = None
        if task.process is not None:
            code = task.process.wait()
            exit_code = 128 - code if code < 0 else code  # a signal shows as 128+N, as in a container
        task.registered.wait(60)
        if task.pump is not None:
            task.pump.join(timeout=10)
        self._record_path(task).unlink(missing_ok=True)
        if task.launched is None:
            return  # ECS never recorded it: the dispatcher was told the launch failed
        reason = task.stop_reason or "Essential container in task exited"
        try:
            publish_task_stopped(self.settings, task.launched.task_arn, task.job_id, exit_code, reason)
        except Exception:
            log.exception("could not report task %s as stopped", task.launched.task_arn)


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
