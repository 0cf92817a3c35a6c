"""SHIFTWORK.*: the scheduler's own worksheet functions, over a Service (on AWS, in the add-in's Lambda) or a Client
(`shiftwork excel serve` beside `shiftwork up`, or against a deployed stack).

    =SHIFTWORK.RUN("daily-prices", "day", "2026-12-01")   the job's id; the same inputs again give the same job
    =SHIFTWORK.STATUS(A1)                                  streams: QUEUED, IN_PROGRESS, COMPLETED
    =SHIFTWORK.RESULT(A1, "summary")                       a workflow task's result, spilled
    =SHIFTWORK.JOBS("FAILED")                              a table of jobs, newest first
    =SHIFTWORK.NEXT_FIRES("0 9 * * mon-fri", "Europe/London", 5)
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shiftwork.errors import Conflict, InvalidSpec, NotFound
from shiftwork.excel import Addin, ExcelError
from shiftwork.models import TERMINAL_STATUSES, ListJobsQuery, Status
from shiftwork.models.definition import ListJobDefinitionsQuery

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
STATUS_POLL_SECONDS = 1.0
MAX_JOBS_ROWS = 1000  # one API page
JOB_COLUMNS = ["Job ID", "Name", "Status", "Created (UTC)", "Started (UTC)", "Ended (UTC)", "Definition", "Message"]


def shiftwork_addin(facade: Any, *, poll_seconds: float = STATUS_POLL_SECONDS) -> Addin:
    """The SHIFTWORK add-in over facade (a Service or a Client: they have the same methods)."""
    addin = Addin("Shiftwork", "Run Shiftwork jobs from a sheet and follow them", namespace="SHIFTWORK")

    @addin.expose(
        description="Run a job definition now and return the job's id",
        help="definition (name or id), then parameter names and values in pairs. The same inputs give the same job: "
        "change an input (a date, a counter) to run it again",
        arguments={"definition": "The definition's name or id", "parameters": "name1, value1, name2, value2, ..."},
    )
    def run(definition: str, *parameters: Any) -> str:
        found = _definition(facade, definition)
        values = _pairs(parameters)
        token = _run_token(found.job_definition_id, values)
        job = facade.definitions.run(found.job_definition_id, values, idempotency_token=token)
        return str(job.job_id)

    @addin.expose(description="A job's status, followed live until it ends", arguments={"job": "A job's id"})
    def status(job: str) -> Iterator[str]:
        while True:
            described = _job(facade, job)
            yield described.status.value
            if described.status in TERMINAL_STATUSES:
                return
            time.sleep(poll_seconds)

    @addin.expose(
        description="A workflow task's result, spilled as a range",
        help="a JSON result: one value, a list (a column), rows, a list of records (a table with a header) or a "
        "mapping (names and values)",
        arguments={"job": "A workflow run's id", "task": "The task's name"},
    )
    def result(job: str, task: str) -> Any:
        described = _job(facade, job)
        if described.kind != "workflow":
            raise ExcelError("#VALUE!", f"job {job} is a notebook job: it has files, not task results")
        try:
            info = facade.workflows.result(job, task)
        except Conflict as error:
            raise ExcelError("#N/A", f"task {task} has no result yet ({error}); =SHIFTWORK.STATUS follows it") from None
        except InvalidSpec as error:
            raise ExcelError("#REF!", str(error)) from None
        if info.format != "json":
            raise ExcelError("#VALUE!", f"task {task}'s result is a pickled object: return JSON from it to see it here")
        return spill(info.value)

    @addin.expose(
        description="A table of jobs, newest first",
        arguments={"status": "Only jobs in this status (COMPLETED, FAILED, ...); empty for all", "count": "Rows"},
    )
    def jobs(status: str | None = None, count: int = 50) -> list[list[Any]]:
        if not 1 <= count <= MAX_JOBS_ROWS:
            raise ExcelError("#NUM!", f"count is {count}: give 1 to {MAX_JOBS_ROWS}")
        wanted = _status(status) if status else None
        page = facade.list_jobs(ListJobsQuery(status=wanted, max_items=count))
        rows: list[list[Any]] = [JOB_COLUMNS]
        for job in page.jobs:
            rows.append(
                [
                    job.job_id,
                    job.name,
                    job.status.value,
                    _moment(job.create_time),
                    _moment(job.start_time),
                    _moment(job.end_time),
                    job.job_definition_id or "",
                    job.status_message or "",
                ]
            )
        return rows

    @addin.expose(
        description="A schedule's next fire times, as dates in its time zone",
        arguments={
            "schedule": 'Unix cron ("0 9 * * mon-fri"), cron(...), rate(...) or at(...)',
            "timezone": "IANA time zone [UTC]",
            "count": "How many [5]",
        },
    )
    def next_fires(schedule: str, timezone: str = "UTC", count: int = 5) -> list[datetime]:
        preview = facade.preview_schedule(schedule, timezone, count)
        return [fire.replace(tzinfo=None) for fire in preview.fires]  # wall time in its zone: a cell has none

    return addin


def _definition(facade: Any, reference: str) -> Any:
    reference = reference.strip()
    if UUID.match(reference):
        try:
            return facade.definitions.get(reference)
        except NotFound:
            pass
    page = facade.definitions.list(query=ListJobDefinitionsQuery(name=reference, max_items=100))
    exact = [d for d in page.job_definitions if d.name == reference]
    if not exact:
        raise ExcelError("#N/A", f"no job definition is named or has the id {reference!r}")
    if len(exact) > 1:
        raise ExcelError("#VALUE!", f"{len(exact)} definitions are named {reference!r}: give its id")
    return exact[0]


def _pairs(values: tuple[Any, ...]) -> dict[str, Any]:
    if len(values) % 2:
        raise ExcelError("#VALUE!", f"parameters come in name, value pairs: {len(values)} values were given")
    pairs: dict[str, Any] = {}
    for index in range(0, len(values), 2):
        name, value = values[index], values[index + 1]
        if not isinstance(name, str) or not name.isidentifier():
            raise ExcelError("#VALUE!", f"parameter name {name!r} (argument {index + 2}): give an identifier")
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Excel has one kind of number: 3 is meant as 3, not 3.0
        pairs[name] = value
    return pairs


def _run_token(definition_id: str, parameters: dict[str, Any]) -> str:
    """The same definition and parameters make the same token: recalculating a cell never runs a job again."""
    canonical = json.dumps([definition_id, parameters], sort_keys=True, separators=(",", ":"), default=str)
    return "excel-" + hashlib.sha256(canonical.encode()).hexdigest()


def _job(facade: Any, job_id: str) -> Any:
    try:
        return facade.get_job(job_id.strip())
    except (NotFound, InvalidSpec):
        raise ExcelError("#N/A", f"no job has the id {job_id!r}") from None


def _status(text: str) -> Status:
    try:
        return Status(text.strip().upper())
    except ValueError:
        raise ExcelError("#VALUE!", f"status {text!r}: give one of {', '.join(s.value for s in Status)}") from None


def _moment(milliseconds: int | None) -> Any:
    return None if milliseconds is None else datetime.fromtimestamp(milliseconds / 1000, UTC)


def spill(value: Any) -> Any:
    """A JSON value as a range: rows stay rows, records become a table with a header, a mapping names and values."""
    if isinstance(value, dict):
        return [[key, _cell(item)] for key, item in value.items()] or ""
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            header = list(dict.fromkeys(key for item in value for key in item))
            return [header] + [[_cell(item.get(key)) for key in header] for item in value]
        if any(isinstance(item, list) for item in value):
            return [[_cell(cell) for cell in row] if isinstance(row, list) else [_cell(row)] for row in value]
        return [[_cell(item)] for item in value] or ""
    return _cell(value)


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))  # nested deeper than a table: its JSON text in the cell
    return value
