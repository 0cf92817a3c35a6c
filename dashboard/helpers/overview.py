"""The overview's figures from jobs and definitions: jobs per day by status, durations, failure rate and estimated
cost per definition over a window, and the fires of the next 24 hours. No Streamlit here."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shiftwork.models import DescribeJob, DescribeJobDefinition, ListJobsQuery, ListJobsResponse, Status
from shiftwork.models.definition import SchedulePreview
from shiftwork.models.resources import NOTEBOOK_RUNNER, STACK_ARCH, estimate_cost

WINDOWS = {"24 hours": timedelta(hours=24), "7 days": timedelta(days=7), "30 days": timedelta(days=30)}
MAX_JOBS = 3000  # jobs one render reads (three pages of 1000): past it, the page says it stopped there
NO_DEFINITION = "(no definition)"
HORIZON = timedelta(hours=24)


def window_query(window: timedelta, now: datetime) -> ListJobsQuery:
    """Every job started in the window, oldest pages first read as the API pages them (1000 a page)."""
    start = int((now - window).timestamp() * 1000)
    return ListJobsQuery(start_time=start, max_items=1000)


def bounded_jobs(
    fetch: Callable[[ListJobsQuery], ListJobsResponse], query: ListJobsQuery, limit: int = MAX_JOBS
) -> tuple[list[DescribeJob], bool]:
    """The jobs of the query's pages followed by next_token, at most `limit`; True when it stopped at the limit."""
    found: list[DescribeJob] = []
    while True:
        page = fetch(query)
        found += page.jobs
        if len(found) >= limit:
            return found[:limit], bool(page.next_token) or len(found) > limit
        if not page.next_token:
            return found, False
        query = query.model_copy(update={"next_token": page.next_token})


def definition_of(job: DescribeJob, names: dict[str, str]) -> str:
    """What a job's figures are grouped by: its definition's name (or id, if it is gone)."""
    if not job.job_definition_id:
        return NO_DEFINITION
    return names.get(job.job_definition_id, job.job_definition_id)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def jobs_per_day(jobs: Iterable[DescribeJob]) -> list[dict[str, Any]]:
    """How many jobs started each day (UTC), by status."""
    counts = Counter((_utc(job.start_time).date(), job.status.value) for job in jobs if job.start_time is not None)
    return [{"day": day, "status": status, "jobs": count} for (day, status), count in sorted(counts.items())]


def durations(jobs: Iterable[DescribeJob], names: dict[str, str]) -> list[dict[str, Any]]:
    """Each ended job's run time (start to end), with its definition and status."""
    return [
        {
            "definition": definition_of(job, names),
            "job": job.job_id,
            "name": job.name,
            "status": job.status.value,
            "seconds": round((job.end_time - job.start_time) / 1000, 1),
        }
        for job in jobs
        if job.start_time is not None and job.end_time is not None
    ]


def failure_rates(jobs: Iterable[DescribeJob], names: dict[str, str]) -> list[dict[str, Any]]:
    """Per definition: its ended jobs, how many failed, the share that failed (stopped and skipped ones left out)."""
    ended: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for job in jobs:
        if job.status in (Status.COMPLETED, Status.FAILED):
            ended[definition_of(job, names)] += 1
            failed[definition_of(job, names)] += job.status == Status.FAILED
    return [
        {"definition": name, "ended": count, "failed": failed[name], "failure_rate": round(failed[name] / count, 4)}
        for name, count in sorted(ended.items())
    ]


def notebook_cost(job: DescribeJob, now_ms: int) -> float | None:
    """A notebook job's estimated cost: its run time on the runner's Fargate size (at least Fargate's minute)."""
    if job.start_time is None:
        return None
    seconds = max(0.0, ((job.end_time or now_ms) - job.start_time) / 1000)
    return estimate_cost(NOTEBOOK_RUNNER, "fargate", seconds, arch=STACK_ARCH)


def costs(
    jobs: Iterable[DescribeJob], names: dict[str, str], run_costs: dict[str, float], now_ms: int
) -> list[dict[str, Any]]:
    """Estimated USD per definition and kind: a workflow run's from its run details (run_costs, by run id), a
    notebook job's from its run time on the runner's size. Runs missing from run_costs are left out."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    counted: Counter[tuple[str, str]] = Counter()
    for job in jobs:
        cost = run_costs.get(job.job_id) if job.kind == "workflow" else notebook_cost(job, now_ms)
        if cost is None:
            continue
        key = (definition_of(job, names), job.kind)
        totals[key] += cost
        counted[key] += 1
    return [
        {"definition": name, "kind": kind, "jobs": counted[(name, kind)], "cost_usd": round(total, 6)}
        for (name, kind), total in sorted(totals.items())
    ]


def scheduled(definitions: Iterable[DescribeJobDefinition]) -> list[DescribeJobDefinition]:
    """The definitions whose schedule fires: active, with a schedule (not on demand, not after another's run)."""
    return [d for d in definitions if d.active and d.schedule and not d.run_after]


def upcoming_fires(
    previews: Iterable[tuple[DescribeJobDefinition, SchedulePreview]], now: datetime, horizon: timedelta = HORIZON
) -> list[dict[str, Any]]:
    """Each fire within the horizon, soonest first: the definition, the time in its zone and in UTC."""
    rows = [
        {
            "definition": definition.name,
            "definition_id": definition.job_definition_id,
            "local_time": fire.astimezone(ZoneInfo(preview.timezone)).strftime("%Y-%m-%d %H:%M %Z"),
            "timezone": preview.timezone,
            "utc": fire.astimezone(UTC),
        }
        for definition, preview in previews
        for fire in preview.fires
        if now <= fire < now + horizon
    ]
    return sorted(rows, key=lambda row: (row["utc"], row["definition"]))
