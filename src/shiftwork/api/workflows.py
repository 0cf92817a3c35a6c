"""Workflows: run one now, deploy one as a definition, read a run's tasks, results, logs and details, rerun."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftwork.errors import Conflict, InvalidSpec, NotFound
from shiftwork.models import CreateJobDefinition, DescribeJob, DescribeJobDefinition, Status
from shiftwork.models.limits import check_record_size
from shiftwork.models.workflow import (
    WORKFLOW_SPEC_FILE,
    DescribeTask,
    RunWorkflow,
    TaskStatus,
    WorkflowSpec,
    run_parameters,
)
from shiftwork.store import files, jobs, tasks

if TYPE_CHECKING:
    from shiftwork.api.service import Service
    from shiftwork.models.workflow import RunDetails, TaskResultInfo


@dataclass
class WorkflowCode:
    """A workflow's spec and the files of its code folder: what a run's or a version's snapshot holds."""

    spec: WorkflowSpec
    code: dict[str, Path]  # relative path -> local file
    _spec_file: Path | None = field(default=None, repr=False)

    def inputs(self, prefix: str) -> dict[str, Path]:
        """{relative: file} to upload under prefix, the spec file included; keys checked before anything is sent."""
        if WORKFLOW_SPEC_FILE in self.code:
            raise InvalidSpec("code", WORKFLOW_SPEC_FILE, "is Shiftwork's own file name: rename your file")
        if self.spec.module_file not in self.code:
            raise InvalidSpec("module_file", self.spec.module_file, "is not among the code files sent")
        if self._spec_file is None:
            folder = Path(tempfile.mkdtemp(prefix="shiftwork-spec-"))
            self._spec_file = folder / WORKFLOW_SPEC_FILE
            self._spec_file.write_text(self.spec.model_dump_json(indent=1))
        inputs = {**self.code, WORKFLOW_SPEC_FILE: self._spec_file}
        files.check_tree(inputs, prefix)
        return inputs

    def definition(self, definition: DescribeJobDefinition) -> DescribeJobDefinition:
        """A version of a definition as this workflow's: its spec, module and parameters."""
        return definition.model_copy(
            update={
                "kind": "workflow",
                "workflow": self.spec.model_dump(mode="json"),
                "input_filename": self.spec.module_file,
                "parameters": {**run_parameters(self.spec, {}, partial=True), **definition.parameters},
                "output_formats": [],
            }
        )


class Workflows:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings

    def run(self, request: RunWorkflow, code: dict[str, Path]) -> DescribeJob:
        """A run now, with no definition: snapshot the code, record the run (CREATED), ask for its dispatch."""
        parameters = run_parameters(request.spec, request.parameters)
        source = WorkflowCode(request.spec, code)
        job_id = str(uuid.uuid4())
        prefix = files.input_prefix(job_id)
        job = jobs.draft(
            job_id,
            name=request.name or request.spec.name,
            status=Status.CREATED,
            input_filename=request.spec.module_file,
            parameters=parameters,
            output_formats=[],
            tags=request.tags,
            kind="workflow",
        )
        check_record_size("job", job)
        inputs = source.inputs(prefix)
        files.upload_tree(inputs, prefix, self.settings)
        try:
            jobs.put_new(job)
        except BaseException:
            files.delete_prefix(prefix, self.settings)
            raise
        self.service.request_dispatch(job_id)
        return job

    def deploy(
        self, request: CreateJobDefinition, code: WorkflowCode, job_definition_id: str | None = None
    ) -> DescribeJobDefinition:
        """A definition whose every job is a run of this workflow: versioned, scheduled, as a notebook's."""
        request = request.model_copy(update={"name": request.name or code.spec.name})
        return self.service.definitions.create(request, job_definition_id, workflow=code)

    def get_run(self, run_id: str) -> DescribeJob:
        run = jobs.get(run_id)
        if run.kind != "workflow":
            raise InvalidSpec("run", run_id, "is a notebook job, not a workflow run: see it with `shiftwork show`")
        return run

    def tasks(self, run_id: str) -> list[DescribeTask]:
        """The run's tasks in the order of its spec, each mapped task followed by its instances."""
        run = self.get_run(run_id)
        records = tasks.list_for(run_id)
        from shiftwork.workflows.build import load_spec

        try:
            order = {name: index for index, name in enumerate(load_spec(run).names)}
        except Exception:  # noqa: BLE001 - a run whose snapshot is gone still lists its tasks
            order = {}
        return sorted(records, key=lambda t: (order.get(t.name, len(order)), t.map_index is not None, t.map_index or 0))

    def task(self, run_id: str, task_id: str) -> DescribeTask:
        self.get_run(run_id)
        try:
            return tasks.get(run_id, task_id)
        except NotFound:
            known = ", ".join(t.task_id for t in tasks.list_for(run_id)) or "none"
            raise InvalidSpec("task", task_id, f"is not a task of run {run_id}; its tasks: {known}") from None

    def result(self, run_id: str, task_id: str, expires_seconds: int = 3600) -> TaskResultInfo:
        """A task's result for any front end: the JSON value, or a download URL for a pickled object."""
        from shiftwork import aws
        from shiftwork.models.workflow import TaskResultInfo
        from shiftwork.workflows.results import read_json

        task = self.task(run_id, task_id)
        if task.map_count is not None and task.status == TaskStatus.COMPLETED:
            return self._mapped_result(task)
        if task.result_key is None:
            raise Conflict(f"{run_id}/{task_id}", task.status.value, "COMPLETED (it has no result yet)")
        if task.result_format == "json":
            return TaskResultInfo(task_id=task_id, format="json", value=read_json(task, self.settings))
        url = aws.client("s3", self.settings).generate_presigned_url(
            "get_object", Params={"Bucket": self.settings.bucket, "Key": task.result_key}, ExpiresIn=expires_seconds
        )
        return TaskResultInfo(task_id=task_id, format="pickle", download_url=url, key=task.result_key)

    def _mapped_result(self, task: DescribeTask) -> TaskResultInfo:
        """A mapped task's result: its instances' results as one JSON list, when they all are JSON."""
        from shiftwork.models.workflow import TaskResultInfo, instance_id
        from shiftwork.workflows.results import read_json

        instances = [tasks.get(task.job_id, instance_id(task.name, i)) for i in range(task.map_count or 0)]
        pickled = [t.task_id for t in instances if t.result_format == "pickle"]
        if pickled:
            raise Conflict(
                f"{task.job_id}/{task.task_id}", "pickled results", f"JSON: read each instance ({pickled[0]}, ...)"
            )
        return TaskResultInfo(
            task_id=task.task_id, format="json", value=[read_json(t, self.settings) for t in instances]
        )

    def result_value(self, run_id: str, task_id: str) -> Any:
        """The result as the Python value it was (unpickled here: the SDK's, in the user's own process); a mapped
        task's is the list of its instances' results."""
        from shiftwork.models.workflow import instance_id
        from shiftwork.workflows.results import read_value

        task = self.task(run_id, task_id)
        if task.map_count is not None and task.status == TaskStatus.COMPLETED:
            return [
                read_value(tasks.get(run_id, instance_id(task.name, i)), self.settings) for i in range(task.map_count)
            ]
        if task.result_key is None:
            raise Conflict(f"{run_id}/{task_id}", task.status.value, "COMPLETED (it has no result yet)")
        return read_value(task, self.settings)

    def logs(self, run_id: str, task_id: str, next_token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One batch of a task's log events, oldest first."""
        task = self.task(run_id, task_id)
        return self.service.stream_logs(task.log_stream, next_token, archive_key=_archive_key(task))

    def details(self, run_id: str) -> RunDetails:
        from shiftwork.workflows.details import run_details

        return run_details(self.get_run(run_id), self.tasks(run_id))

    def rerun(self, run_id: str, full: bool = False, version: int | None = None) -> DescribeJob:
        """A new run of the same workflow linked to this one, reusing its completed tasks unless `full`."""
        from shiftwork.workflows.rerun import new_rerun

        original = self.get_run(run_id)
        if not original.is_terminal:
            raise Conflict(run_id, original.status.value, "finished (a rerun reuses what a finished run kept)")
        job = new_rerun(original, full, version, self.settings)
        self.service.request_dispatch(job.job_id)
        return job

    def stop(self, run_id: str) -> DescribeJob:
        from shiftwork.workflows.stop import stop_run

        return stop_run(self.get_run(run_id), self.settings)

    def delete_tasks(self, run_id: str) -> None:
        with contextlib.suppress(NotFound):
            tasks.delete_for(run_id)


def _archive_key(task: DescribeTask) -> str:
    from shiftwork.workflows.results import tasks_prefix

    return f"{tasks_prefix(task.job_id)}{task.task_id}/logs/attempt-{task.attempt}.jsonl"


__all__ = ["WorkflowCode", "Workflows"]
