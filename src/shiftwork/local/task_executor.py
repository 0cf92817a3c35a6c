"""The embedded stack's Lambda executor: warm worker processes, each running one invocation at a time.

As a warm Lambda does, a worker imports the runner once and takes invocation after invocation (its event, one
JSON line on stdin; its answer, one line on stdout). Up to `workers` invocations run at once; the rest wait,
as Lambda would throttle them. A worker that dies is replaced, and the invocation it had is failed over to the
same path a Lambda that died takes: its task is settled FAILED and the run advances.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

from shiftwork.launchers.base import LaunchedTask, Launcher
from shiftwork.local.background import guarded

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models import DescribeJob
    from shiftwork.models.workflow import DescribeTask

log = logging.getLogger(__name__)
WORKER_ARGS = ("-m", "shiftwork.local.task_worker")


class LocalTaskExecutor(Launcher):
    def __init__(self, settings: Settings, workers: int = 2, python: str = sys.executable) -> None:
        self.settings = settings
        self._python = python
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._seen: dict[str, LaunchedTask] = {}
        self._lock = threading.Lock()
        self._wanted = threading.Event()  # set by the first launch: then every worker warms up at once
        self._threads = [
            threading.Thread(target=self._serve, daemon=True, name=f"lambda-worker-{i}") for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def launch_task(self, job: DescribeJob, task: DescribeTask) -> LaunchedTask:
        """Queue one invocation per (run, task, attempt): a duplicate launch gets the first one's request."""
        from shiftwork.models.resources import lambda_resources
        from shiftwork.workflows.lambda_executor import log_stream_of

        key = f"{job.job_id}/{task.task_id}/{task.attempt}"
        with self._lock:
            if key in self._seen:
                return self._seen[key]
            launched = LaunchedTask(
                f"lambda:{uuid.uuid4()}",
                log_stream_of(job.job_id, task.task_id, task.attempt),
                lambda_resources(task.requested),
            )
            self._seen[key] = launched
        self._wanted.set()
        self._queue.put({"job_id": job.job_id, "task_id": task.task_id, "attempt": task.attempt})
        return launched

    def stop(self, task_arn: str, reason: str) -> None:
        """A Lambda cannot be stopped: it runs to its end (or its timeout)."""

    def launch(self, job: DescribeJob) -> LaunchedTask:
        raise NotImplementedError("the Lambda executor runs workflow tasks, not notebook jobs")

    def close(self) -> None:
        self._wanted.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def _spawn(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self._python, *WORKER_ARGS],
            env={**os.environ, **_endpoint(self.settings)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the worker's own warnings go where the stack's do
            text=True,
            start_new_session=True,
        )

    def _serve(self) -> None:
        self._wanted.wait()
        worker: subprocess.Popen[str] | None = None
        try:
            worker = self._spawn()  # every worker warms up once the first task comes, as Lambda scales out
        except OSError:
            log.exception("a Lambda worker could not start; the next invocation tries again")
        while True:
            event = self._queue.get()
            if event is None:
                break
            if worker is None or worker.poll() is not None:
                worker = self._spawn()
            assert worker.stdin is not None and worker.stdout is not None
            answer = ""
            with contextlib.suppress(BrokenPipeError):
                worker.stdin.write(json.dumps(event) + "\n")
                worker.stdin.flush()
                answer = worker.stdout.readline()
            if not answer:  # the worker died with the invocation: what a dead Lambda leaves is settled
                worker = None
                guarded(f"settling task {event['task_id']} after its worker died", partial(_dead, event))
            else:  # here, where the launchers are: as the task Lambda passes its end on itself
                guarded(f"passing on the end of task {event['task_id']}", partial(_ended, event))
        if worker is not None and worker.poll() is None:
            with contextlib.suppress(OSError):
                assert worker.stdin is not None
                worker.stdin.close()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()


def _endpoint(settings: Settings) -> dict[str, str]:
    from shiftwork.config import ENV_ENDPOINT_URL

    return {ENV_ENDPOINT_URL: settings.endpoint_url} if settings.endpoint_url else {}


def _ended(event: dict[str, Any]) -> None:
    from shiftwork.workflows.lambda_executor import settle_ended

    settle_ended(str(event["job_id"]), str(event["task_id"]))


def _dead(event: dict[str, Any]) -> None:
    from shiftwork.workflows.lambda_executor import settle_dead

    settle_dead(str(event["job_id"]), str(event["task_id"]))
