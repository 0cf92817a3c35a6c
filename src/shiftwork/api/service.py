"""Service: what a user can do with jobs, whatever the front end."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftwork import aws
from shiftwork.api import stack
from shiftwork.api.validation import check_formats, check_notebook, folder_files, resolve_kernel
from shiftwork.config import get_settings
from shiftwork.dispatch import queue
from shiftwork.errors import Conflict, InvalidSpec, NotFound
from shiftwork.launchers import FargateLauncher
from shiftwork.models import (
    TERMINAL_STATUSES,
    CreateJob,
    DescribeJob,
    ListJobsQuery,
    ListJobsResponse,
    SchedulePreview,
    Status,
)
from shiftwork.models.job import RUN_SETTINGS
from shiftwork.models.limits import check_lookup_id, check_record_size
from shiftwork.models.paging import pages, whole_query
from shiftwork.models.stack import InboxPage, RuntimeEnvironment
from shiftwork.store import files, jobs

if TYPE_CHECKING:
    from shiftwork.config import Settings

_TOKEN_NAMESPACE = uuid.UUID("6b1f3f0e-2d52-4a55-9a0a-5e7a8f0c1d21")
ARCHIVE_TOKEN = "archive"  # next_token once the logs came from the archive: there is nothing after them
INPUT_FOLDER = "input"  # a download's input snapshot, beside the outputs (include_input)
STOPPABLE = (Status.CREATED, Status.QUEUED, Status.IN_PROGRESS)


class Service:
    def __init__(self, settings: Settings | None = None) -> None:
        from shiftwork.api.definitions import Definitions
        from shiftwork.api.workflows import Workflows

        self.settings = settings or get_settings()
        self.definitions = Definitions(self)
        self.workflows = Workflows(self)

    # -- jobs ---------------------------------------------------------------------------------------------
    def create_job(self, request: CreateJob) -> DescribeJob:
        """Validate, snapshot the input to S3, record the job (CREATED) and ask for it to be dispatched."""
        notebook = Path(request.input_uri).expanduser()
        kernel_name = resolve_kernel(check_notebook(notebook), request.kernel_name)
        check_formats(request.output_formats)
        folder = notebook.resolve().parent
        inputs = folder_files(folder) if request.package_input_folder else {notebook.name: notebook}
        prefix = None  # the default, jobs/<id>/input/
        if request.idempotency_token:
            job_id = str(uuid.uuid5(_TOKEN_NAMESPACE, request.idempotency_token))
            try:
                return jobs.get(job_id)  # the same request again: the job it made
            except NotFound:
                pass
            # requests with one token may race: each uploads under its own prefix, so the loser's input never
            # overwrites the job's
            prefix = f"{files.input_prefix(job_id)}{uuid.uuid4().hex[:8]}/"
        else:
            job_id = str(uuid.uuid4())
        job = jobs.draft(
            job_id,
            name=request.name or notebook.stem,
            status=Status.CREATED,
            input_filename=notebook.name,
            input_prefix=prefix,
            kernel_name=kernel_name,
            job_definition_id=request.job_definition_id,
            idempotency_token=request.idempotency_token,
            **request.run_settings(),
        )
        upload_to = prefix or files.input_prefix(job_id)
        check_record_size("job", job)
        files.check_tree(inputs, upload_to)
        # everything is checked: now write, and remove this request's snapshot if its record is not written
        files.upload_tree(inputs, upload_to, self.settings)
        try:
            jobs.put_new(job)
        except Conflict:
            if prefix is None:
                raise
            files.delete_prefix(prefix, self.settings)
            return jobs.get(job_id)  # a concurrent request with the same token made it first: that job
        except BaseException:
            files.delete_prefix(upload_to, self.settings)
            raise
        self.request_dispatch(job_id)
        return job

    def request_dispatch(self, job_id: str) -> None:
        """Hand the job to the dispatcher (through the dispatch queue when there is one)."""
        queue.request_dispatch(job_id, settings=self.settings)

    def deliver_fire(self, payload: dict[str, Any]) -> None:
        """A schedule fire for the dispatcher (what EventBridge Scheduler sends its target)."""
        queue.deliver_fire(payload, settings=self.settings)

    def get_job(self, job_id: str) -> DescribeJob:
        return jobs.get(job_id)

    def list_jobs(self, query: ListJobsQuery | None = None) -> ListJobsResponse:
        return jobs.list_jobs(query or ListJobsQuery())

    def wait_job(self, job_id: str, timeout: float | None = None) -> DescribeJob:
        """The job once it has ended (COMPLETED, FAILED, STOPPED or SKIPPED); WaitTimeout after `timeout` s."""
        from shiftwork.waiting import wait_for_job

        return wait_for_job(self.get_job, job_id, timeout)

    def iter_jobs(
        self,
        status: Status | None = None,
        job_definition_id: str | None = None,
        *,
        query: ListJobsQuery | None = None,
    ) -> Iterator[DescribeJob]:
        """Every job `query` selects in its order (default: all, newest first), following next_token.

        status and job_definition_id, when given, replace the query's.
        """
        query = whole_query(query, ListJobsQuery, status=status, job_definition_id=job_definition_id)
        # large pages: a list sorted by anything but create_time rereads every match for each page
        for page in pages(jobs.list_jobs, query):
            yield from page.jobs

    def stop_job(self, job_id: str) -> DescribeJob:
        """QUEUED/IN_PROGRESS -> STOPPING and stop its task; the completion handler makes it STOPPED."""
        job = jobs.get(job_id)
        if job.kind == "workflow":
            return self.workflows.stop(job_id)
        if job.status not in STOPPABLE:
            raise Conflict(job_id, job.status.value, "|".join(s.value for s in STOPPABLE))
        if job.status == Status.CREATED or (not job.task_arn and job.status == Status.QUEUED):
            # Nothing is running yet: stop it outright. A launch racing with this finds the job not QUEUED.
            return jobs.update(
                job_id, [job.status], status=Status.STOPPED, status_message="stopped by user", end_time=jobs.now_ms()
            )
        job = jobs.update(job_id, [job.status], status=Status.STOPPING)
        if job.task_arn:
            FargateLauncher(self.settings).stop(job.task_arn, "Stopped by user (shiftwork job stop)")
        return job

    def update_job(self, job_id: str, name: str | None = None, status: Status | None = None) -> DescribeJob:
        """Jupyter Scheduler's UpdateJob: rename the job, or ask for it to stop (status STOPPED)."""
        if status is not None and status != Status.STOPPED:
            raise InvalidSpec("status", status.value, "a job can only be asked to stop: send STOPPED, or leave it out")
        if name is not None and not name.strip():
            raise InvalidSpec("name", name, "give a non-empty name")
        job = (
            jobs.get(job_id)
            if name is None
            else jobs.update(check_lookup_id("job", job_id), list(Status), name=name.strip())
        )
        return self.stop_job(job_id) if status == Status.STOPPED else job

    def delete_job(self, job_id: str) -> None:
        """Remove a finished job's record and files."""
        job = jobs.get(job_id)
        if job.status not in TERMINAL_STATUSES:
            raise Conflict(job_id, job.status.value, "finished (stop it first: shiftwork job stop ID)")
        files.delete_prefix(f"jobs/{job_id}/", self.settings)  # a run's task results and logs too
        if job.kind == "workflow":
            self.workflows.delete_tasks(job_id)
        jobs.delete(job_id)

    def rerun_job(self, job_id: str) -> DescribeJob:
        """A new job like this one: a definition's job through its definition with the same parameters, a one-off
        from its input snapshot with the same settings."""
        job = jobs.get(job_id)
        if job.kind == "workflow":
            raise InvalidSpec("job", job_id, "a workflow run is rerun as a run: shiftwork runs rerun ID")
        if job.job_definition_id:
            return self.definitions.run(job.job_definition_id, job.parameters)
        with tempfile.TemporaryDirectory(prefix="shiftwork-rerun-") as folder:
            files.download_tree(job.input_prefix or files.input_prefix(job_id), Path(folder), self.settings)
            settings = {name: getattr(job, name) for name in RUN_SETTINGS}
            notebook = Path(folder) / job.input_filename
            return self.create_job(
                CreateJob(input_uri=str(notebook), name=job.name, kernel_name=job.kernel_name, **settings)
            )

    def download_job_files(self, job_id: str, destination: Path, include_input: bool = False) -> list[Path]:
        """Download the job's output and side-effect files into destination; with include_input, the notebook (and
        folder) it ran from too, under destination/input/ (INPUT_FOLDER)."""
        job = jobs.get(job_id)
        written = files.download_tree(job.output_prefix, destination, self.settings)
        if include_input:
            written += files.download_tree(_input_prefix(job), destination / INPUT_FOLDER, self.settings)
        return written

    def subscribe(self, email: str) -> str:
        """Subscribe an email address to the notifications topic; returns the subscription ARN."""
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            raise InvalidSpec("email", email, "give an address such as analyst@example.com")
        if not self.settings.notifications_topic_arn:
            raise InvalidSpec("notifications topic", None, "set SHIFTWORK_NOTIFICATIONS_TOPIC_ARN")
        response = aws.client("sns", self.settings).subscribe(
            TopicArn=self.settings.notifications_topic_arn,
            Protocol="email",
            Endpoint=email,
            ReturnSubscriptionArn=True,
        )
        return str(response["SubscriptionArn"])

    def subscriptions(self) -> list[dict[str, str]]:
        """Who gets the notifications: each subscription's protocol, endpoint and ARN (PendingConfirmation until
        the address confirms)."""
        if not self.settings.notifications_topic_arn:
            return []
        paginator = aws.client("sns", self.settings).get_paginator("list_subscriptions_by_topic")
        return [
            {"protocol": s["Protocol"], "endpoint": s["Endpoint"], "subscription_arn": s["SubscriptionArn"]}
            for page in paginator.paginate(TopicArn=self.settings.notifications_topic_arn)
            for s in page["Subscriptions"]
        ]

    def preview_schedule(
        self, schedule: str, timezone: str = "UTC", count: int = 5, start: str | None = None
    ) -> SchedulePreview:
        """The schedule's next `count` fires from `start` (wall time in timezone; default now), and it in words."""
        from shiftwork.schedules.preview import MAX_PREVIEW_FIRES, preview_schedule

        if not 1 <= count <= MAX_PREVIEW_FIRES:
            raise InvalidSpec("count", count, f"ask for 1 to {MAX_PREVIEW_FIRES} fires")
        return preview_schedule(schedule, timezone, count, start)

    # -- what the stack offers front ends (api/stack.py) -----------------------------------------------------
    def runtime_environments(self) -> list[RuntimeEnvironment]:
        """The kernels jobs can run with, each with the output formats they can make."""
        return stack.runtime_environments()

    def inbox(self, max_items: int = 100, next_token: str | None = None) -> InboxPage:
        """One page of the notebooks under inbox/ (key, size, last modified)."""
        return stack.inbox(self.settings, max_items, next_token)

    def fetch_inbox(self, key: str, destination: Path) -> Path:
        """Download an inbox notebook into the folder destination (a job's or definition's input); the file."""
        return stack.fetch_inbox(self.settings, key, destination)

    def inbox_url(self, key: str) -> str:
        """A presigned GET URL of an inbox notebook, for a front end that fetches it itself."""
        return stack.inbox_url(self.settings, key)

    def download_urls(
        self, job_id: str, expires_seconds: int = 3600, include_input: bool = False
    ) -> list[dict[str, str]]:
        """A presigned GET URL for each of the job's files (outputs and side effects), with its relative path; with
        include_input, the input snapshot's files too (file_format "input", under input/)."""
        job = jobs.get(job_id)
        described = {f.file_path: f for f in job.job_files}
        s3 = aws.client("s3", self.settings)
        listed = [(key, key[len(job.output_prefix) :]) for key in files.iter_keys(job.output_prefix, self.settings)]
        if include_input:
            prefix = _input_prefix(job)
            listed += [(key, f"{INPUT_FOLDER}/{key[len(prefix) :]}") for key in files.iter_keys(prefix, self.settings)]
        urls = []
        for key, relative in listed:
            known = described.get(key)
            is_input = relative.startswith(f"{INPUT_FOLDER}/") and include_input
            urls.append(
                {
                    "path": relative,
                    "display_name": known.display_name if known else relative,
                    "file_format": "input" if is_input else (known.file_format if known else "file"),
                    "url": s3.generate_presigned_url(
                        "get_object", Params={"Bucket": self.settings.bucket, "Key": key}, ExpiresIn=expires_seconds
                    ),
                }
            )
        return urls

    def upload(self, path: Path, key: str) -> None:
        """Put a local file in the bucket at `key` (a notebook under inbox/ runs), as Client.upload does remotely."""
        files.safe_relative(key)
        files.upload_file(path, key, self.settings)

    def upload_url(self, key: str, expires_seconds: int = 900) -> str:
        """A presigned PUT URL for a file to land at `key` in the bucket (a notebook under inbox/ runs)."""
        files.safe_relative(key)
        if key.startswith(files.OWN_PREFIXES):
            own = " and ".join(files.OWN_PREFIXES)
            raise InvalidSpec("key", key, f"{own} are Shiftwork's own: use inbox/ or a watched prefix")
        return str(
            aws.client("s3", self.settings).generate_presigned_url(
                "put_object", Params={"Bucket": self.settings.bucket, "Key": key}, ExpiresIn=expires_seconds
            )
        )

    def job_logs(self, job_id: str, next_token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One batch of the job's log events, oldest first, and the token for the next batch."""
        job = jobs.get(job_id)
        return self.stream_logs(job.log_stream, next_token, archive_key=files.logs_key(job_id))

    def stream_logs(
        self, log_stream: str | None, next_token: str | None, *, archive_key: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One batch of a runner's log stream; the embedded stack's archive (at archive_key) once it is gone."""
        if not log_stream:
            return [], next_token
        request: dict[str, Any] = {
            "logGroupName": self.settings.log_group,
            "logStreamName": log_stream,
            "startFromHead": True,
        }
        if next_token:
            request["nextToken"] = next_token
        logs = aws.client("logs", self.settings)
        try:
            response = logs.get_log_events(**request) if next_token != ARCHIVE_TOKEN else {}
        except logs.exceptions.ResourceNotFoundException:
            response = {}
        except logs.exceptions.InvalidParameterException:
            if not next_token:
                raise
            raise InvalidSpec("next_token", next_token, "send back a next_token as a logs page gave it") from None
        events = response.get("events", [])
        if not events and next_token is None:
            archived = self._archived_logs(archive_key)
            if archived:
                return archived, ARCHIVE_TOKEN
        if next_token == ARCHIVE_TOKEN:
            return [], ARCHIVE_TOKEN
        return events, response.get("nextForwardToken") or next_token

    def _archived_logs(self, key: str) -> list[dict[str, Any]]:
        """The embedded stack's archive of a runner's output, when CloudWatch no longer has it."""
        s3 = aws.client("s3", self.settings)
        try:
            body = s3.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return []
        return [json.loads(line) for line in body.splitlines() if line.strip()]


def _input_prefix(job: DescribeJob) -> str:
    """Where the job's input snapshot is: its own, or its definition version's."""
    return job.input_prefix or files.input_prefix(job.job_id)


def parse_status(value: str | None, field: str = "status") -> Status | None:
    if value is None:
        return None
    try:
        return Status(value.upper())
    except ValueError as error:
        raise InvalidSpec(field, value, f"use one of {', '.join(s.value for s in Status)}") from error
