"""`Client.workflows`: workflows through the REST API, with the same methods as the library's `Service().workflows`,
so that the SDK's RunHandle and the CLI drive a deployed stack as they drive the embedded one.

A workflow's code goes inline (base64), as a notebook's folder does. `result_value` unpickles a pickled result
here, in the caller's own process, after downloading it through the presigned URL the API gives: the API itself
never unpickles anything. Unpickle only results of runs you trust (pickle runs code as it loads).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shiftwork.models import CreateJobDefinition, DescribeJob, DescribeJobDefinition
from shiftwork.models.workflow import DescribeTask, RunDetails, RunWorkflow, TaskResultInfo

if TYPE_CHECKING:
    from shiftwork.api.workflows import WorkflowCode
    from shiftwork.client import Client

# the same limit the API applies (api/routes/inline.py), checked before anything is read into the request
MAX_INLINE_BYTES = 4 * 1024 * 1024


def inline_code(code: dict[str, Path]) -> dict[str, str]:
    """A workflow's code files as the API takes them: {relative path: base64 content}."""
    from shiftwork.errors import InvalidSpec

    total = sum(Path(path).stat().st_size for path in code.values())
    if total > MAX_INLINE_BYTES:
        raise InvalidSpec(
            "code", f"{total} bytes", f"exceeds {MAX_INLINE_BYTES >> 20} MiB sent inline: put large data in S3"
        )
    return {relative: base64.b64encode(Path(path).read_bytes()).decode() for relative, path in code.items()}


class RemoteWorkflows:
    """Workflows through the API: the methods of api.workflows.Workflows."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _run_path(self, run_id: str, *rest: str) -> str:
        return "/".join([f"/runs/{quote(run_id, safe='')}", *(quote(part, safe="") for part in rest)])

    def run(self, request: RunWorkflow, code: dict[str, Path]) -> DescribeJob:
        body = {**request.model_dump(mode="json", exclude_none=True), "code_files": inline_code(code)}
        return DescribeJob.model_validate(self.client.request("POST", "/workflows/runs", body))

    def deploy(
        self, request: CreateJobDefinition, code: WorkflowCode, job_definition_id: str | None = None
    ) -> DescribeJobDefinition:
        body = request.model_dump(mode="json", exclude={"input_uri", "package_input_folder"}, exclude_none=True)
        body.update(
            spec=code.spec.model_dump(mode="json"),
            code_files=inline_code(code.code),
            job_definition_id=job_definition_id,
        )
        return DescribeJobDefinition.model_validate(self.client.request("POST", "/workflows/definitions", body))

    def get_run(self, run_id: str) -> DescribeJob:
        return DescribeJob.model_validate(self.client.request("GET", self._run_path(run_id))["run"])

    def tasks(self, run_id: str) -> list[DescribeTask]:
        page = self.client.request("GET", self._run_path(run_id))
        return [DescribeTask.model_validate(task) for task in page["tasks"]]

    def task(self, run_id: str, task_id: str) -> DescribeTask:
        return DescribeTask.model_validate(self.client.request("GET", self._run_path(run_id, "tasks", task_id)))

    def result(self, run_id: str, task_id: str) -> TaskResultInfo:
        """The JSON value, or (a pickled object) its download URL."""
        path = self._run_path(run_id, "tasks", task_id, "result")
        return TaskResultInfo.model_validate(self.client.request("GET", path))

    def download_result(self, info: TaskResultInfo) -> bytes:
        """A pickled result's bytes, through its presigned URL."""
        from shiftwork.client import ApiError

        response = self.client._http.request("GET", info.download_url or "")
        if response.status != 200:
            raise ApiError(response.status, f"download of the result of {info.task_id} failed")
        return bytes(response.data)

    def result_value(self, run_id: str, task_id: str) -> Any:
        """The result as the Python value it was: a pickled one is downloaded and unpickled here (trust the run)."""
        info = self.result(run_id, task_id)
        if info.format == "json":
            return info.value
        import pickle

        return pickle.loads(self.download_result(info))  # the caller's own run's result, in its own process

    def logs(self, run_id: str, task_id: str, next_token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        page = self.client.request("GET", self._run_path(run_id, "tasks", task_id, "logs"), next_token=next_token)
        return page["events"], page["next_token"]

    def details(self, run_id: str) -> RunDetails:
        return RunDetails.model_validate(self.client.request("GET", self._run_path(run_id, "details")))

    def rerun(self, run_id: str, full: bool = False, version: int | None = None) -> DescribeJob:
        body = {"full": full, "version": version} if version is not None else {"full": full}
        return DescribeJob.model_validate(self.client.request("POST", self._run_path(run_id, "rerun"), body))

    def stop(self, run_id: str) -> DescribeJob:
        """Stop each running task of the run (POST /jobs/{id}/stop: a run is a job)."""
        return self.client.stop_job(run_id)
