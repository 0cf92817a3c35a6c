"""How jobs look in a terminal: tables, a detail panel, statuses in colour."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text

from shiftwork.models import DescribeJob, Status

STATUS_STYLE = {
    Status.CREATED: "dim",
    Status.QUEUED: "cyan",
    Status.IN_PROGRESS: "yellow",
    Status.COMPLETED: "green",
    Status.FAILED: "bold red",
    Status.STOPPING: "magenta",
    Status.STOPPED: "magenta",
    Status.SKIPPED: "dim",
}


def styled_status(status: Status) -> str:
    return f"[{STATUS_STYLE[status]}]{status.value}[/]"


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(job: DescribeJob) -> str:
    if job.start_time is None:
        return "-"
    end = job.end_time or int(datetime.now().timestamp() * 1000)
    return f"{(end - job.start_time) / 1000:.1f} s"


def jobs_table(jobs: list[DescribeJob]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for column in ("Job ID", "Name", "Status", "Created", "Duration", "Files"):
        table.add_column(column, no_wrap=column in ("Job ID", "Created"))
    for job in jobs:
        table.add_row(
            job.job_id,
            job.name,
            styled_status(job.status),
            when(job.create_time),
            duration(job),
            str(len(job.job_files)),
        )
    return table


def job_detail(job: DescribeJob, bucket: str) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, str | Text]] = [
        ("Job ID", job.job_id),
        ("Name", job.name),
        ("Status", styled_status(job.status)),
    ]
    if job.status_message:
        rows.append(("Message", Text(job.status_message)))  # a cell's text, not rich markup
    rows += [
        ("Input", job.input_filename + (" (with its folder)" if job.package_input_folder else "")),
        ("Kernel", job.kernel_name or "the notebook's (read when it starts)"),
        ("Parameters", ", ".join(f"{k}={v!r}" for k, v in job.parameters.items()) or "-"),
        ("Formats", ", ".join(job.output_formats)),
        ("Created", when(job.create_time)),
        ("Started", when(job.start_time)),
        ("Ended", when(job.end_time)),
        ("Duration", duration(job)),
    ]
    if job.timeout_seconds:
        rows.append(("Timeout", f"{job.timeout_seconds:g} s"))
    if job.execution_timeout_seconds:
        rows.append(("Cell timeout", f"{job.execution_timeout_seconds:g} s"))
    if job.report_mode:
        rows.append(("Report mode", "code cells' input hidden"))
    if job.job_definition_id:
        rows.append(("Definition", job.job_definition_id))
    if job.triggered_by:
        rows.append(("Triggered by", f"job {job.triggered_by} (run after)"))
    rows.append(("Files", f"s3://{bucket}/{job.output_prefix}"))
    for file in job.job_files:
        rows.append(("", f"{file.display_name} [dim]({file.file_format})[/] {file.file_path}"))
    if job.error_traceback:
        rows.append(("Traceback", Text(job.error_traceback)))
    for label, value in rows:
        table.add_row(label, value)
    return table
