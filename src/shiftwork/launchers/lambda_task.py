"""LambdaTaskLauncher: a light workflow task (executor "lambda") as one asynchronous invocation of the task function.

The event the task function (functions/task.py) receives is the JSON object

    {"job_id": "<the run's job id>", "task_id": "<task name, or name[index] for a mapped instance>", "attempt": 1}

and nothing else: the function reads the task record (tasks table, key job_id + task_id) for the rest, and should
do nothing if the record's attempt is no longer `attempt` (a stale or repeated delivery). Lambda may deliver an
asynchronous event more than once, and retries it (twice, by default) when the function fails, so the function
must be idempotent on (job_id, task_id, attempt).

A Lambda invocation has no ECS task: its LaunchedTask's task_arn is `lambda:<request id>`. The invocation sends
the task's output to the runner log group, in a stream of its own, `lambda/<run>/<task>/<attempt>`
(workflows/lambda_executor.py), so a task's logs are found the same way whichever executor ran it.

Lambda cannot be given a size per invocation: the function has one memory size (and CPU in proportion to it), so a
task launches only if that size holds what the task asks for (see models.resources.lambda_memory), and only if
the function's timeout is at least the task's.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.errors import LaunchError
from shiftwork.launchers.base import LaunchedTask, Launcher

if TYPE_CHECKING:
    from shiftwork.config import Settings
    from shiftwork.models import DescribeJob
    from shiftwork.models.workflow import DescribeTask

LAMBDA_TASK_PREFIX = "lambda:"


def task_event(job: DescribeJob, task: DescribeTask) -> dict[str, Any]:
    """What the task function is invoked with."""
    return {"job_id": job.job_id, "task_id": task.task_id, "attempt": task.attempt}


class LambdaTaskLauncher(Launcher):
    """Invokes Settings.task_function asynchronously ("Event"), one invocation per attempt of a task."""

    def launch(self, job: DescribeJob) -> LaunchedTask:
        raise NotImplementedError("the task Lambda runs workflow tasks; notebook jobs run on Fargate")

    def stop(self, task_arn: str, reason: str) -> None:
        """A Lambda invocation cannot be stopped: it runs to its end or its timeout."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._lock = threading.Lock()
        self._configuration: tuple[int, int] | None = None  # the function's memory (MB) and timeout (s), read once

    def function_size(self) -> tuple[int, int]:
        """The task function's configured memory size (MB) and timeout (seconds)."""
        with self._lock:
            if self._configuration is None and self.settings.task_function_memory:
                self._configuration = (self.settings.task_function_memory, 900)  # the stack sets 900 s
            if self._configuration is None:
                configuration = aws.client("lambda", self.settings).get_function_configuration(
                    FunctionName=self.settings.task_function
                )
                self._configuration = (int(configuration["MemorySize"]), int(configuration["Timeout"]))
            return self._configuration

    def _refusal(self, task: DescribeTask, needed: int) -> str | None:
        """Why the task function cannot run `task` (too little memory, too short a timeout), or None."""
        memory, timeout = self.function_size()
        function = self.settings.task_function
        if needed > memory:
            return (
                f"task {task.task_id} needs {needed} MB on Lambda ({task.requested.describe()}) but the task "
                f"function {function} has {memory} MB: raise its memory or use executor='fargate'"
            )
        if task.timeout_seconds is not None and task.timeout_seconds > timeout:
            return (
                f"task {task.task_id} may run {task.timeout_seconds:g} s but the task function {function} stops "
                f"after {timeout} s: raise its timeout or use executor='fargate'"
            )
        return None

    def launch_task(self, job: DescribeJob, task: DescribeTask) -> LaunchedTask:
        """Invoke the task function for this attempt of `task`; the LaunchedTask names the request."""
        from shiftwork.models.resources import LAMBDA_MB_PER_VCPU, Resources, lambda_memory  # pydantic: lazily

        refusal = self._refusal(task, lambda_memory(task.requested, field=f"tasks.{task.name}.resources"))
        if refusal:
            raise LaunchError(job.job_id, refusal)
        response = aws.client("lambda", self.settings).invoke(
            FunctionName=self.settings.task_function,
            InvocationType="Event",
            Payload=json.dumps(task_event(job, task)).encode(),
        )
        if response.get("StatusCode") != 202:
            raise LaunchError(job.job_id, f"Lambda answered {response.get('StatusCode')} to task {task.task_id}")
        request_id = response["ResponseMetadata"]["RequestId"]
        memory = self.function_size()[0]
        granted = Resources(cpu=round(memory / LAMBDA_MB_PER_VCPU, 3), memory_mb=memory)
        from shiftwork.workflows.lambda_executor import log_stream_of

        stream = log_stream_of(job.job_id, task.task_id, task.attempt)
        return LaunchedTask(f"{LAMBDA_TASK_PREFIX}{request_id}", stream, granted)
