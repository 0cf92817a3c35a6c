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
from shiftwork.runner.failure import (
    CellTimedOut,
    JobStopRequested,
    JobTimedOut,
    cell_failed,
    describe_failure,
    failure_traceback,
    record_timeout,
)
from shiftwork.runner.kernels import kernel_language, resolve_kernel
from shiftwork.runner.outputs import FileStamp, convert, side_effect_files, snapshot_tree
from shiftwork.runner.warm import WarmKernel
from shiftwork.store import files, jobs

log = logging.getLogger(__name__)


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise JobStopRequested()


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
        if self.job.kernel_name is None:  # nobody submitted it (an S3 inbox upload): the notebook's own kernel
            import nbformat

            kernel = resolve_kernel(nbformat.read(str(self.input_path), as_version=4), None)
            self.job = jobs.update(self.job_id, [Status.IN_PROGRESS], kernel_name=kernel)
        return True

    def _cell_timeout(self, _cell: Any = None) -> float | None:
        """Seconds the next cell may run: the per-cell limit, or what is left of the job's, whichever is less."""
        assert self.job is not None
        limits = [self.job.execution_timeout_seconds] if self.job.execution_timeout_seconds else []
        if self._deadline is not None:
            limits.append(max(1.0, self._deadline - time.monotonic()))
        return min(limits) if limits else None

    def _kernel_manager(self) -> Any:
        """The warm runner's kernel if it is the one the job asks for; None lets the engine start one."""
        assert self.job is not None and self.job.kernel_name is not None
        if self.warm is None:
            return None
        self.warm.wait_adopted()
        if self.warm.kernel_name == self.job.kernel_name:
            return self.warm.manager
        self.warm.shutdown()  # another kernel was asked for: the engine starts that one
        return None

    def execute(self) -> None:
        import papermill

        from shiftwork.runner.engine import ENGINE_NAME

        assert self.job is not None and self.job.kernel_name is not None
        job, kernel = self.job, self.job.kernel_name
        manager = self._kernel_manager()
        self._deadline = time.monotonic() + job.timeout_seconds if job.timeout_seconds else None
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            papermill.execute_notebook(
                str(self.input_path),
                str(self.output_path),
                parameters=job.parameters,
                engine_name=ENGINE_NAME,
                kernel_name=kernel,
                language=kernel_language(kernel),
                cwd=str(self.workdir),
                progress_bar=False,
                log_output=False,
                stdout_file=sys.stdout,
                stderr_file=sys.stderr,
                request_save_on_cell_execute=True,
                start_timeout=job.start_timeout_seconds,
                report_mode=job.report_mode,
                timeout_func=self._cell_timeout if job.timeout_seconds or job.execution_timeout_seconds else None,
                km=manager,
            )
        except Exception as error:
            raise self._explained(error) from error
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _explained(self, error: Exception) -> Exception:
        """papermill's error as the user counts cells; a timeout also recorded in the cell that was running."""
        from papermill.exceptions import PapermillExecutionError

        assert self.job is not None
        if isinstance(error, PapermillExecutionError):
            return cell_failed(error, self.output_path)
        if type(error).__name__ != "CellTimeoutError":
            return error
        whole_job = self._deadline is not None and time.monotonic() >= self._deadline - 0.5
        if whole_job and self.job.timeout_seconds:
            message = f"the job timed out after {self.job.timeout_seconds:g} s (--timeout)"
            return JobTimedOut(self.job.timeout_seconds, record_timeout(self.output_path, message))
        seconds = self.job.execution_timeout_seconds or 0
        message = f"the cell timed out after {seconds:g} s (--execution-timeout)"
        return CellTimedOut(seconds, record_timeout(self.output_path, message))

    def _collect(self) -> list[JobFile]:
        """Convert and upload whatever exists: every format of the output notebook, then side effects."""
        assert self.job is not None
        prefix = files.output_prefix(self.job_id)
        job_files: list[JobFile] = []
        made: dict[str, Path] = {}
        if self.output_path.is_file():
            try:
                made = convert(self.output_path, self.job.output_formats, self.out_dir, self.job.report_mode)
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

    def _finish(
        self, status: Status, message: str | None, job_files: list[JobFile], error_traceback: str | None = None
    ) -> None:
        dumped = [f.model_dump() for f in job_files]
        try:
            jobs.update(
                self.job_id,
                [Status.IN_PROGRESS],
                status=status,
                status_message=message,
                job_files=dumped,
                end_time=jobs.now_ms(),
                error_traceback=error_traceback,
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
        self._finish(Status.FAILED, describe_failure(error), job_files, failure_traceback(error))

    def on_complete(self) -> None:
        self._finish(Status.COMPLETED, None, self._collect())
