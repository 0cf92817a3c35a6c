"""The embedded stack over a state directory, and how a command finds or starts it.

One process owns a state directory at a time (an flock on stack.lock): `shiftwork up`, or a command that found
no stack running and embeds one for its own duration. Others connect to the owner's endpoint (stack.json).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import ENV_STATE_DIR, Settings, get_settings
from shiftwork.errors import StackUnavailable
from shiftwork.local.background import guarded

if TYPE_CHECKING:
    from shiftwork.models import DescribeJob

log = logging.getLogger(__name__)

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "shiftwork-local",
    "AWS_SECRET_ACCESS_KEY": "shiftwork-local",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# The handlers' Powertools logs and metrics are for CloudWatch; in a terminal, only warnings
QUIET_LAMBDAS = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
LOST_MESSAGE = "runner lost: the embedded stack stopped while the job ran"


def apply_environment(values: dict[str, str]) -> Settings:
    """Set the process environment (inherited by runner subprocesses) and re-read settings."""
    os.environ.update(LOCAL_CREDENTIALS)
    for name, value in QUIET_LAMBDAS.items():
        os.environ.setdefault(name, value)
    os.environ.update(values)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    get_settings.cache_clear()
    aws.clear_clients()
    return get_settings()


@dataclass
class StackInfo:
    """What stack.json tells other processes about the running owner."""

    endpoint_url: str
    dispatch_queue_url: str
    pid: int
    mode: str  # "up" or "command"
    api_url: str = ""  # the REST API `up` serves (Authorization: Bearer <state dir's api-token>)

    def environment(self, state_dir: Path) -> dict[str, str]:
        from shiftwork.local.bootstrap import DISPATCH_QUEUE, NOTIFICATIONS_TOPIC

        region = os.environ.get("SHIFTWORK_REGION", "us-east-1")
        return {
            "SHIFTWORK_SCHEDULER_TARGET_ARN": f"arn:aws:sqs:{region}:123456789012:{DISPATCH_QUEUE}",
            "SHIFTWORK_NOTIFICATIONS_TOPIC_ARN": f"arn:aws:sns:{region}:123456789012:{NOTIFICATIONS_TOPIC}",
            "SHIFTWORK_ENDPOINT_URL": self.endpoint_url,
            "SHIFTWORK_DISPATCH_QUEUE_URL": self.dispatch_queue_url,
            "SHIFTWORK_LAUNCHER": "local",
            ENV_STATE_DIR: str(state_dir),
        }


@dataclass
class EmbeddedStack:
    state_dir: Path
    port: int = 0
    mode: str = "command"
    run_jobs: bool = True  # start a launcher and deliver events (run, up); read-only commands need neither
    requeue: bool = False  # relaunch jobs left queued by an earlier stack (up)
    info: StackInfo | None = None
    launcher: Any = None
    task_executor: Any = None
    workers: list[Any] = field(default_factory=list)
    replayed: int = 0
    network: tuple[list[str], list[str]] | None = None
    clock: Any = None
    _ecs_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> EmbeddedStack:
        from shiftwork.local.bootstrap import (
            Resources,
            bootstrap_queues,
            bootstrap_storage,
            enable_bucket_events,
        )
        from shiftwork.local.journal import Journal
        from shiftwork.local.server import JournalingMotoServer
        from shiftwork.local.snapshot import load_snapshot, write_snapshot

        started = time.perf_counter()
        if self.run_jobs:  # first: its warm runner imports papermill on the other core while the stack starts
            from shiftwork.launchers.local import LocalLauncher

            self.launcher = LocalLauncher(
                get_settings(),
                tasks_dir=self.state_dir / "tasks",
                scratch_dir=self.state_dir / "scratch",
                network=self.ensure_ecs,
            )
        self.server = JournalingMotoServer(port=self.port)
        self.server.start()
        settings = apply_environment(
            {"SHIFTWORK_ENDPOINT_URL": self.server.endpoint_url, ENV_STATE_DIR: str(self.state_dir)}
        )
        bootstrap_storage(settings)
        resources = bootstrap_queues(settings) if self.run_jobs else Resources()
        self.journal = Journal(self.state_dir / "data")
        load_snapshot(self.journal.snapshot_dir)
        self.replayed = self.server.app.replay(self.journal)
        if self.journal.size() > settings.journal_compact_bytes:
            scratch = self.state_dir / "data" / "snapshot.new"
            shutil.rmtree(scratch, ignore_errors=True)
            write_snapshot(scratch)
            self.journal.commit_snapshot(scratch)
        else:
            self.journal.open()
        enable_bucket_events(settings)
        self.server.app.journal = self.journal
        self.info = StackInfo(self.server.endpoint_url, resources.dispatch_queue_url, os.getpid(), self.mode)
        settings = apply_environment(self.info.environment(self.state_dir))
        self._recover()
        if self.run_jobs:
            self.launcher.settings = settings
            self._start_jobs(settings, resources.events_queue_url)
            if self.mode == "up":  # have ECS ready before the first job comes; keep time for the schedules
                threading.Thread(
                    target=guarded, args=("bootstrapping ECS", self.ensure_ecs), daemon=True, name="bootstrap-ecs"
                ).start()  # if it fails, the first launch bootstraps it
                self._start_clock()
        _write_json(self.state_dir / "stack.json", self.info.__dict__)
        log.info(
            "embedded stack up in %.2f s (%d journal records replayed)", time.perf_counter() - started, self.replayed
        )
        return self

    def _start_jobs(self, settings: Settings, events_queue_url: str) -> None:
        from shiftwork.launchers import use_launcher
        from shiftwork.local.delivery import QueueWorker
        from shiftwork.local.lambdas import invoke, on_event

        use_launcher(self.launcher)  # the handlers launch with it, as a Lambda would with Fargate
        from shiftwork.launchers import use_task_executor
        from shiftwork.local.task_executor import LocalTaskExecutor

        self.task_executor = LocalTaskExecutor(settings)
        use_task_executor(self.task_executor)  # light workflow tasks: warm workers, as the task Lambda
        assert self.info is not None
        wait = 1 if self.mode == "up" else 0  # a command's stack should stop at once: short polling
        self.workers = [
            QueueWorker(
                "dispatch", self.info.dispatch_queue_url, lambda batch: invoke("dispatch", batch), wait, batch=True
            ),
            QueueWorker("events", events_queue_url, on_event, wait),
        ]
        for worker in self.workers:
            worker.start()
        if self.requeue:
            from shiftwork.api.service import Service
            from shiftwork.models import Status
            from shiftwork.store import jobs

            service = Service(settings)
            for job in list(jobs.iter_with_status([Status.CREATED, Status.QUEUED])):
                service.request_dispatch(job.job_id)

    def _start_clock(self) -> None:
        from shiftwork.local.clock import Clock

        self.clock = Clock(self.state_dir / "clock.json")
        self.clock.start_up()
        self.clock.start()

    def ensure_ecs(self) -> tuple[list[str], list[str]]:
        """Bootstrap ECS once (the first launch needs it); returns the network tasks run in."""
        from shiftwork.local.bootstrap import bootstrap_ecs

        with self._ecs_lock:
            if self.network is None:
                self.network = bootstrap_ecs(get_settings())
                os.environ["SHIFTWORK_SUBNETS"] = json.dumps(self.network[0])
                os.environ["SHIFTWORK_SECURITY_GROUPS"] = json.dumps(self.network[1])
                get_settings.cache_clear()
            return self.network

    def _recover(self) -> None:
        """No runner outlives its stack: kill leftovers, settle their jobs, forget their (in-memory) tasks."""
        from shiftwork.launchers.runner_process import kill_leftover_runners
        from shiftwork.models import Status
        from shiftwork.store import jobs

        kill_leftover_runners(self.state_dir / "tasks")  # a launcher did already; a read-only stack has none
        settle_lost(list(jobs.iter_with_status([Status.IN_PROGRESS, Status.STOPPING, Status.QUEUED])))

    def close(self) -> None:
        """Stop runners, deliver their last events, stop the server; safe after a start that failed midway."""
        if self.clock is not None:
            self.clock.stop()
        for worker in self.workers:
            worker.stop()
        if self.launcher is not None:
            self.launcher.close()
        if self.task_executor is not None:
            self.task_executor.close()
        for worker in self.workers:
            worker.join(timeout=worker.wait_seconds + 30)  # let a handler in progress finish its writes
        if self.workers:
            self._drain_events()
        (self.state_dir / "stack.json").unlink(missing_ok=True)
        server = getattr(self, "server", None)
        if server is not None:
            server.app.journal = None
            if getattr(self, "journal", None) is not None:
                self.journal.close()
            server.stop()

    def _drain_events(self) -> None:
        """Deliver the task-stopped events the launcher just published, so no job is left running."""
        sqs = aws.client("sqs")
        for worker in self.workers:
            if worker.name == "queue-events":
                while worker.poll_once(sqs, wait_seconds=0):
                    pass


def settle_lost(left: list[DescribeJob]) -> None:
    """Jobs an earlier stack left: running ones FAILED (runner lost), stopping ones STOPPED, each giving its slot
    back with that write; queued ones forget their task, to be launched again."""
    from shiftwork.errors import Conflict
    from shiftwork.models import Status
    from shiftwork.store import jobs

    now = jobs.now_ms()
    for job in left:
        if (
            job.kind == "workflow"
            and job.status != Status.STOPPING
            and (job.status, job.tasks_open) != (Status.QUEUED, None)
        ):
            from shiftwork.workflows.stop import abandon_run

            abandon_run(job, LOST_MESSAGE + "; rerun it to reuse what it completed: shiftwork runs rerun ID")
            continue
        try:
            if job.status == Status.IN_PROGRESS:
                jobs.update(job.job_id, [job.status], status=Status.FAILED, status_message=LOST_MESSAGE, end_time=now)
            elif job.status == Status.STOPPING:
                jobs.update(
                    job.job_id, [job.status], status=Status.STOPPED, status_message="stopped by user", end_time=now
                )
            elif job.status == Status.QUEUED and job.task_arn:
                jobs.update(job.job_id, [job.status], task_arn=None, log_stream=None)
        except Conflict:
            pass


def publish(state_dir: Path, info: StackInfo) -> None:
    """Tell other processes how to reach the stack (stack.json)."""
    _write_json(state_dir / "stack.json", info.__dict__)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    temporary.replace(path)


def _try_lock(state_dir: Path) -> IO[str] | None:
    handle = (state_dir / "stack.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _read_owner(state_dir: Path, wait_seconds: float = 60.0) -> StackInfo:
    deadline = time.monotonic() + wait_seconds
    path = state_dir / "stack.json"
    while time.monotonic() < deadline:
        try:
            info = StackInfo(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            time.sleep(0.1)  # the owner is still starting
            continue
        return info
    raise StackUnavailable(str(state_dir), "another process holds it but never published its endpoint")


@contextmanager
def open_stack(state_dir: Path, *, mode: str = "command", run_jobs: bool = False, port: int = 0) -> Iterator[StackInfo]:
    """Use the stack running over state_dir, or embed one for the duration of the block."""
    state_dir = state_dir.expanduser().resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = _try_lock(state_dir)
    if lock is None:
        if mode == "up":
            raise StackUnavailable(str(state_dir), "a stack is already running over it (stop it first)")
        info = _read_owner(state_dir)
        apply_environment(info.environment(state_dir))
        yield info
        return
    (state_dir / "stack.json").unlink(missing_ok=True)  # a SIGKILLed owner's, stale
    try:
        stack = EmbeddedStack(state_dir, port=port, mode=mode, run_jobs=run_jobs or mode == "up", requeue=mode == "up")
        try:
            stack.start()
            assert stack.info is not None
            yield stack.info
        finally:
            stack.close()
    finally:
        lock.close()


def running_stack(state_dir: Path) -> StackInfo | None:
    """What the process holding state_dir published (stack.json), or None when none holds it: nothing is started."""
    state_dir = state_dir.expanduser().resolve()
    if not (state_dir / "stack.lock").exists():
        return None
    lock = _try_lock(state_dir)
    if lock is not None:  # nobody holds it
        lock.close()
        return None
    return _read_owner(state_dir, wait_seconds=10.0)
