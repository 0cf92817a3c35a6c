"""The runner's lifecycle as a template method: before_start, execute, then on_complete or on_failure."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

from shiftwork.errors import Conflict
from shiftwork.models import OUTPUT_FORMATS, DescribeJob, JobFile, Status
from shiftwork.runner.outputs import FileStamp, convert, side_effect_files, snapshot_tree
from shiftwork.runner.warm import WarmKernel
from shiftwork.store import files, jobs

log = logging.getLogger(__name__)


class JobTimedOut(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")


class JobStopRequested(Exception):
    def __init__(self) -> None:
        super().__init__("stopped on request (SIGTERM)")


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise JobStopRequested()


def describe_failure(error: BaseException) -> str:
    """One line for status_message: the error and, for a failing cell, which one."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        # In [N] is what the user sees in the output notebook; the position counts papermill's injected cell
        return f"cell In [{error.exec_count}] (cell {error.cell_index + 1}) raised {error.ename}: {error.evalue}"
    if isinstance(error, JobTimedOut | JobStopRequested):
        return str(error)
    name = type(error).__name__
    if name == "CellTimeoutError" or isinstance(error, TimeoutError):
        return str(error).splitlines()[0] if str(error) else name
    return f"{name}: {error}".splitlines()[0]


class NotebookRunner:
    """Runs one job's notebook in a scratch directory and reports to the store; never trusts its input."""

    def __init__(self, job_id: str, warm: WarmKernel | None = None) -> None:
        self.job_id = job_id
        self.warm = warm
        self.job: DescribeJob | None = None
        self.workdir = Path()
        self.out_dir = Path()
        self.input_path = Path()
        self.output_path = Path()
        self._before: dict[str, FileStamp] = {}
        self._deadline: float | None = None

    def run(self) -> int:
        """Run the whole lifecycle; the exit code is 0 on COMPLETED, 1 otherwise."""
        scratch = self.warm.scratch if self.warm else Path(tempfile.mkdtemp(prefix="shiftwork-"))
        if self.warm:
            self.warm.adopt_environment_in_background(dict(os.environ))
        self.workdir = scratch / "work"
        self.out_dir = scratch / "out"
        self.workdir.mkdir(exist_ok=True)
        self.out_dir.mkdir(exist_ok=True)
        try:
            return self._run()
        finally:
            if self.warm:
                self.warm.shutdown()
            shutil.rmtree(scratch, ignore_errors=True)

    def _run(self) -> int:
        try:
            if not self.before_start():
                return 1
        except Exception as error:  # inputs could not be staged: still a FAILED job, not a lost one
            log.exception("job %s could not start", self.job_id)
            self.on_failure(error)
            return 1
        try:
            self.execute()
        except BaseException as error:  # noqa: BLE001 - KeyboardInterrupt/SIGTERM also end as a failure
            log.error("job %s failed: %s", self.job_id, describe_failure(error))
            self.on_failure(error)
            return 1
        self.on_complete()
        return 0

    def before_start(self) -> bool:
        """QUEUED -> IN_PROGRESS and stage the input snapshot; False if the job is no longer queued."""
        try:
            self.job = jobs.update(self.job_id, [Status.QUEUED], status=Status.IN_PROGRESS, start_time=jobs.now_ms())
        except Conflict as conflict:
            log.warning("job %s not started: %s", self.job_id, conflict)
            return False
        from shiftwork.models.parameters import check_parameters

        check_parameters(self.job.parameters)  # a record written past the API is re-checked before injection
        prefix = self.job.input_prefix or files.input_prefix(self.job_id)
        staged = files.download_tree(prefix, self.workdir)
        self.input_path = self.workdir / self.job.input_filename
        if self.input_path not in staged:
            raise FileNotFoundError(f"input notebook {self.job.input_filename} is missing from the job's files")
        self.output_path = self.out_dir / Path(self.job.input_filename).name
        self._before = snapshot_tree(self.workdir)
        return True

    def _remaining(self, _cell: Any = None) -> int | None:
        if self._deadline is None:
            return None
        return max(1, int(self._deadline - time.monotonic() + 0.999))

    def execute(self) -> None:
        import papermill

        assert self.job is not None
        manager = None
        if self.warm and self.warm.kernel_name == self.job.kernel_name:
            self.warm.wait_adopted()
            manager = self.warm.manager
        elif self.warm:
            self.warm.wait_adopted()
            self.warm.shutdown()  # another kernel was asked for: papermill starts that one
        timeout = self.job.timeout_seconds
        self._deadline = time.monotonic() + timeout if timeout else None
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            papermill.execute_notebook(
                str(self.input_path),
                str(self.output_path),
                parameters=self.job.parameters,
                kernel_name=self.job.kernel_name,
                cwd=str(self.workdir),
                progress_bar=False,
                log_output=False,
                stdout_file=sys.stdout,
                stderr_file=sys.stderr,
                request_save_on_cell_execute=True,
                timeout_func=self._remaining if timeout else None,
                km=manager,
            )
        except Exception as error:
            if timeout and type(error).__name__ == "CellTimeoutError":
                raise JobTimedOut(timeout) from error
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _collect(self) -> list[JobFile]:
        """Convert and upload whatever exists: every format of the output notebook, then side effects."""
        assert self.job is not None
        prefix = files.output_prefix(self.job_id)
        job_files: list[JobFile] = []
        made: dict[str, Path] = {}
        if self.output_path.is_file():
            try:
                made = convert(self.output_path, self.job.output_formats, self.out_dir)
            except Exception:  # a partial notebook may not convert to every format; keep what did
                log.exception("job %s: converting outputs failed", self.job_id)
                made = {"ipynb": self.output_path}
        for name, path in made.items():
            key = prefix + path.name
            files.upload_file(path, key)
            spec = OUTPUT_FORMATS[name]
            job_files.append(JobFile(display_name=spec.display_name, file_format=name, file_path=key))
        effects = side_effect_files(self.workdir, self._before)
        for relative, key in zip(sorted(effects), files.upload_tree(effects, prefix + "files/"), strict=True):
            file_format = Path(relative).suffix.lstrip(".") or "file"
            job_files.append(JobFile(display_name=relative, file_format=file_format, file_path=key))
        return job_files

    def _finish(self, status: Status, message: str | None, job_files: list[JobFile]) -> None:
        dumped = [f.model_dump() for f in job_files]
        try:
            jobs.update(
                self.job_id,
                [Status.IN_PROGRESS],
                status=status,
                status_message=message,
                job_files=dumped,
                end_time=jobs.now_ms(),
            )
        except Conflict:
            # Stopped meanwhile: keep the files; the completion handler settles the status.
            jobs.update(self.job_id, [Status.STOPPING, Status.STOPPED], job_files=dumped)

    def on_failure(self, error: BaseException) -> None:
        if self.job is None:
            return
        job_files: list[JobFile] = []
        try:
            job_files = self._collect()
        except Exception:
            log.exception("job %s: saving partial outputs failed", self.job_id)
        self._finish(Status.FAILED, describe_failure(error), job_files)

    def on_complete(self) -> None:
        self._finish(Status.COMPLETED, None, self._collect())
