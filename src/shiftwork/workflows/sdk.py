"""What `@workflow` objects do from a script: run, deploy, rerun, and the handle a run returns.

They reach Shiftwork as `connect()` does: $SHIFTWORK_API_URL's API, the running `shiftwork up`, or a stack of the
script's own, opened with the first call and kept until the script exits (its runs finish before it closes).
Pass `using=` (a Service or Client from `connect()`) to choose.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shiftwork.api.service import Service
    from shiftwork.client import Client
    from shiftwork.models import DescribeJob, DescribeJobDefinition
    from shiftwork.models.workflow import DescribeTask, RunDetails

_session: contextlib.ExitStack | None = None
_backend: Any = None
_lock = threading.Lock()


def backend(using: Service | Client | None = None) -> Any:
    """`using`, else the script's connection, opened on first use and closed when the script exits."""
    global _session, _backend
    if using is not None:
        return using
    with _lock:
        if _backend is None:
            from shiftwork.connection import connect

            _session = contextlib.ExitStack()
            _backend = _session.enter_context(connect())
            atexit.register(_close)
        return _backend


def _close() -> None:
    """At exit: wait for this script's unfinished runs on its own stack, then close it."""
    global _session, _backend
    with _lock:
        session, _session, _backend = _session, None, None
    if session is not None:
        session.close()


@dataclass
class RunHandle:
    """One run of a workflow: wait for it, read its tasks' results, logs and details, stop or rerun it."""

    run_id: str
    using: Any = None

    @property
    def _sw(self) -> Any:
        return backend(self.using)

    def job(self) -> DescribeJob:
        return self._sw.get_job(self.run_id)

    @property
    def status(self) -> str:
        return str(self.job().status)

    def wait(self, timeout: float | None = None) -> DescribeJob:
        """The run once it has ended; WaitTimeout after `timeout` seconds."""
        return self._sw.wait_job(self.run_id, timeout)

    def tasks(self) -> list[DescribeTask]:
        return self._sw.workflows.tasks(self.run_id)

    def result(self, task: str) -> Any:
        """A task's return value (unpickled here if it was not JSON)."""
        return self._sw.workflows.result_value(self.run_id, task)

    def logs(self, task: str) -> str:
        """Everything a task printed, as one text."""
        lines, token = [], None
        while True:
            events, following = self._sw.workflows.logs(self.run_id, task, token)
            lines += [event["message"] for event in events]
            if not events or following in (None, token):
                return "\n".join(lines)
            token = following

    def details(self) -> RunDetails:
        return self._sw.workflows.details(self.run_id)

    def stop(self) -> DescribeJob:
        return self._sw.stop_job(self.run_id)

    def rerun(self, full: bool = False, version: int | None = None) -> RunHandle:
        job = self._sw.workflows.rerun(self.run_id, full=full, version=version)
        return RunHandle(job.job_id, self.using)


def run(workflow: Any, parameters: dict[str, Any], using: Any = None) -> RunHandle:
    """Run a @workflow now with `parameters`; the run's handle."""
    from shiftwork.models.workflow import RunWorkflow

    sw = backend(using)
    request = RunWorkflow(spec=workflow.spec(), parameters=parameters)
    job = sw.workflows.run(request, workflow.code_files())
    return RunHandle(job.job_id, using)


def deploy(workflow: Any, using: Any = None, **options: Any) -> DescribeJobDefinition:
    """Deploy a @workflow as a versioned definition with its schedule (a new version if it exists)."""
    from shiftwork.api.workflows import WorkflowCode
    from shiftwork.models import ConflictPolicy, CreateJobDefinition

    sw = backend(using)
    fields = {**workflow.deploy_options(), **options}
    definition_id = fields.pop("job_definition_id", None) or slug(workflow.spec().name)
    fields.setdefault("conflict_policy", ConflictPolicy.REPLACE)
    module = workflow.code_files()[workflow.spec().module_file]
    request = CreateJobDefinition(input_uri=str(module), **fields)
    return sw.workflows.deploy(request, WorkflowCode(workflow.spec(), workflow.code_files()), definition_id)


def rerun(run_id: str, full: bool = False, version: int | None = None, using: Any = None) -> RunHandle:
    job = backend(using).workflows.rerun(run_id, full=full, version=version)
    return RunHandle(job.job_id, using)


def slug(name: str) -> str:
    """A definition id from a workflow's name: daily-models stays, "Daily models!" becomes Daily-models."""
    import re

    text = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:48]
    return text or "workflow"
