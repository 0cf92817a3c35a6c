"""The Jobs and Job pages' computation: filters -> ListJobsQuery, jobs -> rows, selections, zips (no Streamlit)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from shiftwork.errors import InvalidSpec, ShiftworkError
from shiftwork.models import DescribeJob, ListJobsQuery, SortDirection, SortField, Status

PAGE_SIZE = 50  # jobs a page of the table shows by default: one page of the API, one Query
PAGE_SIZES = (10, 25, 50, 100)
COLUMNS = ["name", "input file", "output files", "created", "status", "definition", "duration (s)", "tags", "id"]


@dataclass(frozen=True)
class JobFilters:
    """What the Jobs page's filter widgets hold; `to_query` turns it into the API's query."""

    status: Status | None = None
    definition_id: str | None = None
    name_prefix: str = ""
    tag: str = ""
    started_from: date | None = None  # jobs started on or after this day (UTC)
    started_to: date | None = None  # ... and on or before this day (UTC)
    show_skipped: bool = False
    sort_field: str = "create_time"
    descending: bool = True
    page_size: int = PAGE_SIZE


def sort_label(field: str) -> str:
    return field.replace("_", " ")


def day_start_ms(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp() * 1000)


def to_query(filters: JobFilters, next_token: str | None = None) -> ListJobsQuery:
    """The one page of jobs the filters select; InvalidSpec (naming the widget) for a range that ends first."""
    if filters.started_from and filters.started_to and filters.started_to < filters.started_from:
        raise InvalidSpec(
            "started to", filters.started_to.isoformat(), f"pick a day on or after {filters.started_from.isoformat()}"
        )
    hide = [] if filters.show_skipped or filters.status == Status.SKIPPED else [Status.SKIPPED]
    direction = SortDirection.DESC if filters.descending else SortDirection.ASC
    return ListJobsQuery(
        status=filters.status,
        job_definition_id=filters.definition_id or None,
        name=filters.name_prefix.strip() or None,
        tags=[filters.tag.strip()] if filters.tag.strip() else [],
        start_time=day_start_ms(filters.started_from) if filters.started_from else None,
        start_time_before=day_start_ms(filters.started_to + timedelta(days=1)) if filters.started_to else None,
        exclude_status=hide,
        sort_by=[SortField(name=filters.sort_field, direction=direction)],
        max_items=filters.page_size,
        next_token=next_token,
    )


def moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def duration_seconds(job: DescribeJob, now_ms: int) -> float | None:
    """How long it ran (or has been running); None before it starts."""
    if job.start_time is None:
        return None
    end = job.end_time if job.end_time is not None else (None if job.is_terminal else now_ms)
    return None if end is None else round(max(end - job.start_time, 0) / 1000, 1)


def output_files(job: DescribeJob) -> str:
    """The files it made (their names), else the formats it will make."""
    if job.job_files:
        return ", ".join(PurePosixPath(f.file_path).name for f in job.job_files)
    return ", ".join(job.output_formats)


def job_rows(jobs: Sequence[DescribeJob], definition_names: Mapping[str, str], now_ms: int) -> list[dict[str, Any]]:
    """One row per job, in the page's order, with Jupyter Scheduler's columns and ours (COLUMNS)."""
    rows = []
    for job in jobs:
        definition = job.job_definition_id
        values = [
            job.name,
            job.input_filename,
            output_files(job),
            moment(job.create_time),
            job.status.value,
            definition_names.get(definition, definition) if definition else None,
            duration_seconds(job, now_ms),
            ", ".join(job.tags),
            job.job_id,
        ]
        rows.append(dict(zip(COLUMNS, values, strict=True)))
    return rows


def open_label(job: DescribeJob) -> str:
    """How the "Open a job" choice names a job: its name and the start of its id."""
    return f"{job.name} · {job.job_id[:8]}"


def any_live(jobs: Iterable[DescribeJob]) -> bool:
    """Whether some job shown can still change (the table then refreshes itself)."""
    return any(not job.is_terminal for job in jobs)


def selected(jobs: Sequence[DescribeJob], rows: Iterable[int]) -> list[DescribeJob]:
    """The jobs at the selected row positions (positions into the page as listed, whatever the grid's sort)."""
    return [jobs[row] for row in sorted(set(rows)) if 0 <= row < len(jobs)]


@dataclass
class Outcome:
    """What a bulk action did: the jobs it changed, and each refusal's message."""

    done: list[str]
    refused: list[str]


def apply_each(action: Callable[[str], object], jobs: Iterable[DescribeJob]) -> Outcome:
    """Apply `action` to each job's id; a refusal (a finished job cannot stop) is noted, not raised."""
    outcome = Outcome([], [])
    for job in jobs:
        try:
            action(job.job_id)
        except ShiftworkError as error:
            outcome.refused.append(f"{open_label(job)}: {error}")
        else:
            outcome.done.append(job.job_id)
    return outcome


def zip_folder(folder: Path) -> bytes:
    """Every file under `folder`, zipped with paths relative to it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def download_folder(job: DescribeJob) -> str:
    """The folder a job's files go to inside a download's zip: readable and unique."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in job.name)
    return f"{safe}-{job.job_id[:8]}"


TIME_FIELDS = frozenset({"create_time", "update_time", "start_time", "end_time"})


def field_text(name: str, value: Any) -> str:
    """One field of a job as its detail table shows it: times in UTC, lists and mappings as JSON."""
    import json

    if value is None:
        return "—"
    if name in TIME_FIELDS:
        return f"{moment(value):%Y-%m-%d %H:%M:%S} UTC"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value.value if isinstance(value, Status) else value)


def field_rows(job: DescribeJob) -> list[dict[str, str]]:
    """Every field of DescribeJob, in the model's order, as (field, value) text rows."""
    dumped = job.model_dump(mode="json")
    return [{"field": name, "value": field_text(name, dumped[name])} for name in DescribeJob.model_fields]


def parameter_rows(parameters: Mapping[str, Any]) -> list[dict[str, str]]:
    """A job's parameters as name, value and type rows."""
    import json

    return [
        {"name": name, "value": json.dumps(value, default=str), "type": type(value).__name__}
        for name, value in parameters.items()
    ]


def rendered_source(urls: Sequence[Mapping[str, str]]) -> Mapping[str, str] | None:
    """The file to show inline: the job's HTML output if it made one, else its output notebook; None before."""
    html = [u for u in urls if u.get("file_format") == "html" or u["path"].endswith(".html")]
    notebooks = [u for u in urls if u.get("file_format") == "ipynb"]
    found = html or notebooks
    return found[0] if found else None


def log_text(events: Iterable[Mapping[str, Any]]) -> str:
    """Log events' messages, one a line."""
    return "\n".join(str(event.get("message", "")).rstrip("\n") for event in events)


def now_ms() -> int:
    import time as clock

    return int(clock.time() * 1000)


def still_logging(job: DescribeJob, now_ms: int, settle_seconds: float) -> bool:
    """Whether the job's log may still grow: it runs, or it ended less than settle_seconds ago (the pump's last
    flush lands after the status)."""
    if not job.is_terminal:
        return True
    return job.end_time is not None and now_ms - job.end_time < settle_seconds * 1000
