"""`python -m shiftwork.runner JOB_ID --task TASK_ID`: run one task of a workflow run in its own container.

It stages the run's code snapshot, imports the task's function from it (or runs its notebook with papermill),
passes it its upstream tasks' results and the run's parameters, stores what it returns under the run, and reports
the task's end; its container's stop then reaches the completion handler, which launches what depends on it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

from shiftwork.errors import Conflict
from shiftwork.models import Status
from shiftwork.models.workflow import PARAM, REF, WORKFLOW_SPEC_FILE, DescribeTask, TaskKind, TaskSpec, TaskStatus
from shiftwork.runner.failure import MAX_MESSAGE_CHARS, MAX_TRACEBACK_CHARS, JobStopRequested
from shiftwork.store import files, jobs, tasks
from shiftwork.workflows import results

log = logging.getLogger(__name__)
_PACKAGE = str(Path(__file__).resolve().parents[1])  # frames from here are the runner's, not the user's


class TaskTimedOut(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the task timed out after {seconds:g} s (its timeout)")


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise JobStopRequested()


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise TaskTimedOut(float(os.environ.get("_SHIFTWORK_TASK_TIMEOUT", "0")))


class TaskRunner:
    """Runs one task of a run in a scratch folder and reports to the store; never trusts its input."""

    def __init__(self, job_id: str, task_id: str, attempt: int | None = None) -> None:
        self.job_id = job_id
        self.task_id = task_id
        self.attempt = attempt if attempt is not None else _attempt_from_environment()
        self.task: DescribeTask | None = None
        self.spec: TaskSpec | None = None
        self.parameters: dict[str, Any] = {}
        self.workdir = Path()

    def run(self) -> int:
        """The whole lifecycle; the exit code is 0 when the task COMPLETED, 1 otherwise."""
        scratch = Path(tempfile.mkdtemp(prefix="shiftwork-task-"))
        self.workdir = scratch / "code"
        self.workdir.mkdir()
        previous = os.getcwd()
        try:
            if not self._start():
                return 1
            try:
                value = self._execute()
            except BaseException as error:  # noqa: BLE001 - a stop or a timeout also ends the task, saying why
                self._fail(error)
                return 1
            self._complete(value)
            return 0
        finally:
            os.chdir(previous)
            _forget_code(self.workdir)
            shutil.rmtree(scratch, ignore_errors=True)

    def _start(self) -> bool:
        """QUEUED -> IN_PROGRESS (the run too, for its first task); stage the code; False if not queued."""
        try:
            self.task = tasks.update(
                self.job_id,
                self.task_id,
                [TaskStatus.QUEUED],
                status=TaskStatus.IN_PROGRESS,
                at_attempt=self.attempt,  # a container of an earlier attempt, started late, runs nothing
                start_time=tasks.now_ms(),
            )
        except Conflict as conflict:
            log.warning("task %s/%s not started: %s", self.job_id, self.task_id, conflict)
            return False
        try:
            run = jobs.get(self.job_id)
            if run.status == Status.QUEUED:
                with contextlib.suppress(Conflict):  # another task started it
                    jobs.update(self.job_id, [Status.QUEUED], status=Status.IN_PROGRESS, start_time=jobs.now_ms())
            self.parameters = run.parameters
            stage_code(run.input_prefix or files.input_prefix(self.job_id), self.workdir)
            from shiftwork.models.workflow import WorkflowSpec

            spec = WorkflowSpec.model_validate_json((self.workdir / WORKFLOW_SPEC_FILE).read_bytes())
            self.spec = spec.task(self.task.name)
            from shiftwork.runner.requirements import ensure_requirements

            ensure_requirements(spec.python_requirements, self.workdir.parent / "site")
        except BaseException as error:  # noqa: BLE001 - the task could not even start: still FAILED, not lost
            self._fail(error)
            return False
        return True

    def _argument(self, tree: Any) -> Any:
        """An argument tree with each {"$ref"} replaced by that task's result and each {"$param"} by its value."""
        if isinstance(tree, dict):
            if set(tree) == {REF}:
                return self._result_of(tree[REF])
            if set(tree) == {PARAM}:
                return self.parameters.get(tree[PARAM])
            return {key: self._argument(value) for key, value in tree.items()}
        if isinstance(tree, list):
            return [self._argument(item) for item in tree]
        return tree

    def _result_of(self, task_id: str) -> Any:
        upstream = tasks.get(self.job_id, task_id)
        if upstream.map_count is not None:  # a mapped task's result: its instances' results, in order
            return [results.read_value(tasks.get(self.job_id, f"{task_id}[{i}]")) for i in range(upstream.map_count)]
        return results.read_value(upstream)

    def _arguments(self) -> dict[str, Any]:
        assert self.spec is not None and self.task is not None
        arguments = {name: self._argument(tree) for name, tree in self.spec.arguments.items()}
        if self.spec.map_argument is not None and self.task.map_index is not None:
            arguments[self.spec.map_argument] = list(arguments[self.spec.map_argument])[self.task.map_index]
        return arguments

    def _execute(self) -> Any:
        assert self.spec is not None and self.task is not None
        arguments = self._arguments()
        sys.path.insert(0, str(self.workdir))
        os.chdir(self.workdir)  # the task's relative paths are its code folder's, as on the author's machine
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        if self.task.timeout_seconds:
            os.environ["_SHIFTWORK_TASK_TIMEOUT"] = f"{self.task.timeout_seconds:g}"
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.task.timeout_seconds)
        try:
            if self.spec.kind == TaskKind.NOTEBOOK:
                from shiftwork.runner.notebook_task import run_notebook_task

                return run_notebook_task(self, arguments)
            return _function(self.spec)(**arguments)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGTERM, previous)

    def _complete(self, value: Any) -> None:
        key, fmt, length = results.write(self.job_id, self.task_id, value)
        try:
            tasks.update(
                self.job_id,
                self.task_id,
                [TaskStatus.IN_PROGRESS],
                status=TaskStatus.COMPLETED,
                at_attempt=self.attempt,
                result_key=key,
                result_format=fmt,
                result_length=length,
                end_time=tasks.now_ms(),
                status_message=None,  # an earlier attempt's failure is no longer the task's state
                error_traceback=None,
            )
        except Conflict as conflict:
            log.warning("task %s/%s ended meanwhile: %s", self.job_id, self.task_id, conflict)

    def _fail(self, error: BaseException) -> None:
        stopped = isinstance(error, JobStopRequested)
        status = TaskStatus.STOPPED if stopped and _run_stopping(self.job_id) else TaskStatus.FAILED
        message = "stopped by user" if status == TaskStatus.STOPPED else f"{type(error).__name__}: {error}"
        if not stopped:
            log.error("task %s failed: %s", self.task_id, message)
            print(user_traceback(error), file=sys.stderr, end="")
        try:
            tasks.update(
                self.job_id,
                self.task_id,
                [TaskStatus.IN_PROGRESS],
                status=status,
                at_attempt=self.attempt,
                status_message=message[:MAX_MESSAGE_CHARS],
                error_traceback=None if stopped else user_traceback(error)[-MAX_TRACEBACK_CHARS:],
                end_time=tasks.now_ms(),
            )
        except Conflict as conflict:
            log.warning("task %s/%s ended meanwhile: %s", self.job_id, self.task_id, conflict)


def _attempt_from_environment() -> int | None:
    """The attempt the launcher started this container for (None outside one: any attempt)."""
    from shiftwork.config import ENV_TASK_ATTEMPT

    value = os.environ.get(ENV_TASK_ATTEMPT, "")
    return int(value) if value.isdigit() else None


CODE_CACHE_ENTRIES = 8  # snapshots a warm worker keeps (each at most the SDK's 50 MB cap)


def stage_code(prefix: str, workdir: Path) -> None:
    """The run's code snapshot into workdir. A warm worker (a warm Lambda's /tmp) keeps the last few: a snapshot
    never changes once written (each run's and each version's prefix is its own), so the next task of the same
    run copies it from disk instead of listing and reading S3 again."""
    import hashlib

    from shiftwork.config import get_settings

    settings = get_settings()
    cache = Path(tempfile.gettempdir()) / "shiftwork-code"
    name = hashlib.sha256(f"{settings.endpoint_url}|{settings.bucket}|{prefix}".encode()).hexdigest()[:32]
    cached = cache / name
    cache.mkdir(parents=True, exist_ok=True)
    if not cached.is_dir():
        staging = cache / f"{name}.{os.getpid()}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        files.download_tree(prefix, staging)
        try:
            staging.rename(cached)
        except OSError:  # another process staged it first
            shutil.rmtree(staging, ignore_errors=True)
        for old in sorted(cache.iterdir(), key=lambda p: p.stat().st_mtime)[:-CODE_CACHE_ENTRIES]:
            shutil.rmtree(old, ignore_errors=True)
    shutil.copytree(cached, workdir, dirs_exist_ok=True)


def _forget_code(workdir: Path) -> None:
    """Unload the run's modules and its folder from the path: a warm worker (a warm Lambda) runs the next task,
    perhaps another run's with a module of the same name, in the same interpreter."""
    folder = str(workdir)
    while folder in sys.path:
        sys.path.remove(folder)
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(folder + os.sep):
            del sys.modules[name]
    importlib.invalidate_caches()


def _run_stopping(job_id: str) -> bool:
    return jobs.get(job_id).status in (Status.STOPPING, Status.STOPPED)


def _function(spec: TaskSpec) -> Any:
    """The task's callable, imported from the code snapshot by module:qualname (a @task's own function)."""
    assert spec.function is not None
    module_name, _, qualname = spec.function.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return getattr(target, "fn", target)


def user_traceback(error: BaseException) -> str:
    """The traceback as the user's code raised it: the runner's own frames left out."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(_PACKAGE)]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    return "".join([*lines, *traceback.format_exception_only(type(error), error)])
