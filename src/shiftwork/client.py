"""Client: the REST API over HTTP, with the same methods as the library's Service, so that the CLI (and any script)
can drive a deployed stack or a local `shiftwork up` alike.

Authentication: a bearer token when given (`shiftwork up` keeps one in its state directory), else AWS Signature
Version 4 with the caller's AWS credentials, as an HTTP API with IAM authorisation requires.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from shiftwork.client_workflows import RemoteWorkflows
from shiftwork.errors import Conflict, InvalidSpec, NotFound, ShiftworkError
from shiftwork.models import (
    CreateJob,
    CreateJobDefinition,
    DescribeJob,
    DescribeJobDefinition,
    ListJobDefinitionsQuery,
    ListJobDefinitionsResponse,
    ListJobsQuery,
    ListJobsResponse,
    SchedulePreview,
    Status,
    UpdateJobDefinition,
)
from shiftwork.models.paging import pages, whole_query
from shiftwork.models.stack import InboxPage, RuntimeEnvironment

DefinitionVersions = list[DescribeJobDefinition]  # newest first
_EXECUTE_API_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")


class ApiError(ShiftworkError):
    """The API answered with an error a user cannot fix by changing their input (auth, server error)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"HTTP {status}: {message}")


@dataclass(frozen=True)
class RemoteSettings:
    """What a front end needs to know of the stack behind the API (GET /config)."""

    bucket: str
    region: str
    schedule_group: str
    stop_timeout_seconds: float


def region_of(endpoint: str) -> str | None:
    """The region in an API Gateway URL (https://ID.execute-api.REGION.amazonaws.com), if it is one."""
    match = _EXECUTE_API_HOST.search(urlsplit(endpoint).hostname or "")
    return match.group(1) if match else None


class Client:
    def __init__(self, endpoint: str, token: str | None = None, region: str | None = None) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidSpec(
                "endpoint", endpoint, "give the API's URL, e.g. https://ID.execute-api.REGION.amazonaws.com"
            )
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.region = region or region_of(endpoint)
        self._http = urllib3.PoolManager(retries=urllib3.Retry(total=3, connect=3, read=0, backoff_factor=0.2))
        self.definitions = RemoteDefinitions(self)
        self.workflows = RemoteWorkflows(self)

    # -- transport ----------------------------------------------------------------------------------------
    def _headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
            return headers
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = self._aws_session
        credentials = session.get_credentials()
        if credentials is None:
            raise InvalidSpec(
                "credentials",
                None,
                "the API needs AWS credentials (aws configure, AWS_PROFILE) or a token (--token / SHIFTWORK_API_TOKEN)",
            )
        region = self.region or session.region_name or "us-east-1"
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    @cached_property
    def _aws_session(self) -> Any:
        """The caller's AWS credentials and region, found once per client (environment, profile, SSO, IMDS)."""
        import boto3

        return boto3.Session()

    def request(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        """One API call; errors become the library's exceptions (400 InvalidSpec, 404 NotFound, 409 Conflict)."""
        params = {k: v for k, v in query.items() if v is not None}
        url = self.endpoint + path + (f"?{urlencode(params)}" if params else "")
        data = None if body is None else json.dumps(body).encode()
        try:
            response = self._http.request(method, url, body=data, headers=self._headers(method, url, data))
        except urllib3.exceptions.HTTPError as error:
            raise ApiError(0, f"cannot reach {self.endpoint}: {error}") from None
        try:
            payload = json.loads(response.data) if response.data else None
        except ValueError:
            payload = {"message": response.data.decode(errors="replace")[:200]}
        if response.status < 400:
            return payload
        message = str((payload or {}).get("message") or response.reason or "error")
        if response.status in (400, 413, 415, 422):
            raise RemoteInvalid((payload or {}).get("field") or "request", (payload or {}).get("value"), message)
        if response.status == 404:
            raise RemoteNotFound(message)
        if response.status == 409:
            raise RemoteConflict(message)
        if response.status in (401, 403):
            how = (
                "check --token" if self.token else "check your AWS credentials can invoke this API (execute-api:Invoke)"
            )
            raise ApiError(response.status, f"{message}: {how}")
        raise ApiError(response.status, message)

    @cached_property
    def settings(self) -> RemoteSettings:
        config = self.request("GET", "/config")
        return RemoteSettings(
            bucket=config["bucket"],
            region=config["region"],
            schedule_group=config["schedule_group"],
            stop_timeout_seconds=float(config.get("stop_timeout_seconds", 30)),
        )

    # -- jobs ---------------------------------------------------------------------------------------------
    def create_job(self, request: CreateJob) -> DescribeJob:
        body = {**inline_notebook(Path(request.input_uri), request.package_input_folder)}
        body.update(request.model_dump(mode="json", exclude={"input_uri", "package_input_folder"}, exclude_none=True))
        return DescribeJob.model_validate(self.request("POST", "/jobs", body))

    def get_job(self, job_id: str) -> DescribeJob:
        return DescribeJob.model_validate(self.request("GET", f"/jobs/{job_id}"))

    def wait_job(self, job_id: str, timeout: float | None = None) -> DescribeJob:
        """The job once it has ended (COMPLETED, FAILED, STOPPED or SKIPPED); WaitTimeout after `timeout` s."""
        from shiftwork.waiting import wait_for_job

        return wait_for_job(self.get_job, job_id, timeout)

    def list_jobs(self, query: ListJobsQuery | None = None) -> ListJobsResponse:
        return ListJobsResponse.model_validate(self.request("GET", "/jobs", **query_params(query or ListJobsQuery())))

    def iter_jobs(
        self, status: Status | None = None, job_definition_id: str | None = None, *, query: ListJobsQuery | None = None
    ) -> Iterator[DescribeJob]:
        """Every job `query` selects in its order, following next_token (status and job_definition_id replace
        the query's)."""
        query = whole_query(query, ListJobsQuery, status=status, job_definition_id=job_definition_id)
        for page in pages(self.list_jobs, query):
            yield from page.jobs

    def stop_job(self, job_id: str) -> DescribeJob:
        return DescribeJob.model_validate(self.request("POST", f"/jobs/{job_id}/stop"))

    def update_job(self, job_id: str, name: str | None = None, status: Status | None = None) -> DescribeJob:
        body = {k: v for k, v in {"name": name, "status": status.value if status else None}.items() if v is not None}
        return DescribeJob.model_validate(self.request("PATCH", f"/jobs/{job_id}", body))

    def delete_job(self, job_id: str) -> None:
        self.request("DELETE", f"/jobs/{job_id}")

    def rerun_job(self, job_id: str) -> DescribeJob:
        return DescribeJob.model_validate(self.request("POST", f"/jobs/{job_id}/rerun"))

    def job_logs(self, job_id: str, next_token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        page = self.request("GET", f"/jobs/{job_id}/logs", next_token=next_token)
        return page["events"], page["next_token"]

    def download_urls(self, job_id: str, include_input: bool = False) -> list[dict[str, str]]:
        query = {"include_input": "true"} if include_input else {}
        return list(self.request("GET", f"/jobs/{job_id}/download_urls", **query)["urls"])

    def download_job_files(self, job_id: str, destination: Path, include_input: bool = False) -> list[Path]:
        """Each of the job's files through its presigned URL, keeping relative paths (the input under input/)."""
        from shiftwork.store.files import safe_relative

        written = []
        for item in self.download_urls(job_id, include_input):
            target = destination.joinpath(*safe_relative(item["path"]).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            response = self._http.request("GET", item["url"], preload_content=False)
            if response.status != 200:
                raise ApiError(response.status, f"download of {item['path']} failed")
            with target.open("wb") as out:
                for chunk in response.stream(1 << 16):
                    out.write(chunk)
            response.release_conn()
            written.append(target)
        return written

    def upload(self, path: Path, key: str) -> None:
        """Put a file in the stack's bucket through a presigned URL (a notebook under inbox/ runs)."""
        url = self.request("POST", "/uploads", {"key": key})["url"]
        response = self._http.request("PUT", url, body=path.read_bytes())
        if response.status != 200:
            raise ApiError(response.status, f"upload of {path} failed: {response.data[:200]!r}")

    def preview_schedule(
        self, schedule: str, timezone: str = "UTC", count: int = 5, start: str | None = None
    ) -> SchedulePreview:
        page = self.request("GET", "/schedules/preview", schedule=schedule, timezone=timezone, count=count, start=start)
        return SchedulePreview.model_validate(page)

    def runtime_environments(self) -> list[RuntimeEnvironment]:
        return [RuntimeEnvironment.model_validate(e) for e in self.request("GET", "/runtime_environments")]

    def inbox(self, max_items: int = 100, next_token: str | None = None) -> InboxPage:
        return InboxPage.model_validate(self.request("GET", "/inbox", max_items=max_items, next_token=next_token))

    def inbox_url(self, key: str) -> str:
        return str(self.request("GET", "/inbox/download_url", key=key)["url"])

    def fetch_inbox(self, key: str, destination: Path) -> Path:
        """Download an inbox notebook through its presigned URL into the folder destination; the file."""
        from shiftwork.api.stack import write_fetched

        response = self._http.request("GET", self.inbox_url(key))
        if response.status != 200:
            raise ApiError(response.status, f"download of {key} failed")
        return write_fetched(destination, key, response.data)

    def subscribe(self, email: str) -> str:
        return str(self.request("POST", "/notifications/subscriptions", {"email": email})["subscription_arn"])

    def subscriptions(self) -> list[dict[str, str]]:
        return list(self.request("GET", "/notifications/subscriptions"))


class RemoteInvalid(InvalidSpec):
    """The API refused the input; its message names the field, the value and the fix."""

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field, self.value, self.fix = field, value, message
        ShiftworkError.__init__(self, message)


class RemoteNotFound(NotFound):
    def __init__(self, message: str) -> None:
        ShiftworkError.__init__(self, message)


class RemoteConflict(Conflict):
    def __init__(self, message: str) -> None:
        ShiftworkError.__init__(self, message)


class RemoteDefinitions:
    """Job definitions through the API: the same methods as the library's Definitions."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def create(self, request: CreateJobDefinition, job_definition_id: str | None = None) -> DescribeJobDefinition:
        body = inline_notebook(Path(request.input_uri), request.package_input_folder)
        body.update(request.model_dump(mode="json", exclude={"input_uri", "package_input_folder"}, exclude_none=True))
        body["job_definition_id"] = job_definition_id
        return DescribeJobDefinition.model_validate(self.client.request("POST", "/job_definitions", body))

    def get(self, definition_id: str) -> DescribeJobDefinition:
        return DescribeJobDefinition.model_validate(self.client.request("GET", f"/job_definitions/{definition_id}"))

    def list(
        self,
        max_items: int | None = None,
        next_token: str | None = None,
        *,
        query: ListJobDefinitionsQuery | None = None,
    ) -> ListJobDefinitionsResponse:
        params = query_params(query or ListJobDefinitionsQuery())
        if max_items is not None:
            params["max_items"] = max_items
        if next_token is not None:
            params["next_token"] = next_token
        return ListJobDefinitionsResponse.model_validate(self.client.request("GET", "/job_definitions", **params))

    def versions(self, definition_id: str) -> DefinitionVersions:
        found = self.client.request("GET", f"/job_definitions/{definition_id}/versions")["versions"]
        return [DescribeJobDefinition.model_validate(v) for v in found]

    def update(self, definition_id: str, request: UpdateJobDefinition) -> DescribeJobDefinition:
        body: dict[str, Any] = request.model_dump(mode="json", exclude={"input_uri"}, exclude_unset=True)
        if request.input_uri:
            body.update(inline_notebook(Path(request.input_uri), False))
        return DescribeJobDefinition.model_validate(
            self.client.request("PATCH", f"/job_definitions/{definition_id}", body)
        )

    def pause(self, definition_id: str) -> DescribeJobDefinition:
        return DescribeJobDefinition.model_validate(
            self.client.request("POST", f"/job_definitions/{definition_id}/pause")
        )

    def resume(self, definition_id: str, resume_from: str = "now") -> DescribeJobDefinition:
        return DescribeJobDefinition.model_validate(
            self.client.request("POST", f"/job_definitions/{definition_id}/resume", {"resume_from": resume_from})
        )

    def delete(self, definition_id: str) -> None:
        self.client.request("DELETE", f"/job_definitions/{definition_id}")

    def run(
        self, definition_id: str, parameters: dict[str, Any] | None = None, idempotency_token: str | None = None
    ) -> DescribeJob:
        body: dict[str, Any] = {"parameters": parameters or {}}
        if idempotency_token:
            body["idempotency_token"] = idempotency_token
        return DescribeJob.model_validate(self.client.request("POST", f"/job_definitions/{definition_id}/jobs", body))


def query_params(query: ListJobsQuery | ListJobDefinitionsQuery) -> dict[str, Any]:
    """A list query as the API's query string takes it: lists comma-separated, sort_by as name:direction."""
    params = query.model_dump(mode="json", exclude_none=True, exclude={"sort_by"})
    params["sort_by"] = ",".join(f"{key.name}:{key.direction.value}" for key in query.sort_by) or None
    for key, value in params.items():
        if isinstance(value, bool):
            params[key] = str(value).lower()
        elif isinstance(value, list):  # tags, exclude_status
            params[key] = ",".join(value) or None
    return params


def inline_notebook(notebook: Path, with_folder: bool) -> dict[str, Any]:
    """The notebook as the API takes it: its JSON, and its folder's other files base64-encoded if packaged."""
    from shiftwork.api.validation import check_notebook, folder_files

    notebook = notebook.expanduser()
    check_notebook(notebook)
    body: dict[str, Any] = {"input_filename": notebook.name, "input_notebook": json.loads(notebook.read_text())}
    if with_folder:
        body["input_files"] = {
            relative: base64.b64encode(path.read_bytes()).decode()
            for relative, path in folder_files(notebook.resolve().parent).items()
            if relative != notebook.name
        }
    return body
