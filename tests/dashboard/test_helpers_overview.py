"""The overview's figures from jobs, definitions and previews built here (no backend)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.helpers.overview import (
    NO_DEFINITION,
    bounded_jobs,
    costs,
    durations,
    failure_rates,
    jobs_per_day,
    scheduled,
    upcoming_fires,
    window_query,
)
from shiftwork.models import DescribeJob, DescribeJobDefinition, ListJobsQuery, ListJobsResponse, Status
from shiftwork.models.definition import SchedulePreview
from shiftwork.models.resources import NOTEBOOK_RUNNER, Resources, estimate_cost

DAY = datetime(2026, 11, 20, 10, tzinfo=UTC)
NAMES = {"d1": "prices", "d2": "daily"}


def job(job_id: str, status: Status, start: datetime | None, seconds: float | None, **fields: object) -> DescribeJob:
    start_ms = None if start is None else int(start.timestamp() * 1000)
    end_ms = None if start_ms is None or seconds is None else start_ms + int(seconds * 1000)
    return DescribeJob(
        job_id=job_id, name=f"job {job_id}", status=status, input_filename="n.ipynb", create_time=0, update_time=0,
        start_time=start_ms, end_time=end_ms, output_prefix=f"jobs/{job_id}/output/", **fields,
    )  # fmt: skip


JOBS = [
    job("a", Status.COMPLETED, DAY, 120, job_definition_id="d1"),
    job("b", Status.FAILED, DAY, 30, job_definition_id="d1"),
    job("c", Status.COMPLETED, DAY + timedelta(days=1), 10, job_definition_id="d1"),
    job("d", Status.STOPPED, DAY + timedelta(days=1), 5, job_definition_id="d2"),
    job("e", Status.IN_PROGRESS, DAY + timedelta(days=1), None),
    job("w", Status.FAILED, DAY, 4, job_definition_id="d2", kind="workflow"),
    job("never", Status.CREATED, None, None),
]


def test_jobs_per_day_by_status_counts_started_jobs_on_their_utc_day():
    assert jobs_per_day(JOBS) == [
        {"day": date(2026, 11, 20), "status": "COMPLETED", "jobs": 1},
        {"day": date(2026, 11, 20), "status": "FAILED", "jobs": 2},
        {"day": date(2026, 11, 21), "status": "COMPLETED", "jobs": 1},
        {"day": date(2026, 11, 21), "status": "IN_PROGRESS", "jobs": 1},
        {"day": date(2026, 11, 21), "status": "STOPPED", "jobs": 1},
    ]


def test_durations_are_of_ended_jobs_by_definition():
    got = {(row["job"], row["definition"], row["seconds"]) for row in durations(JOBS, NAMES)}
    assert got == {("a", "prices", 120), ("b", "prices", 30), ("c", "prices", 10), ("d", "daily", 5), ("w", "daily", 4)}


def test_the_failure_rate_is_of_completed_and_failed_jobs():
    assert failure_rates(JOBS, NAMES) == [
        {"definition": "daily", "ended": 1, "failed": 1, "failure_rate": 1.0},  # d was stopped: left out
        {"definition": "prices", "ended": 3, "failed": 1, "failure_rate": 0.3333},
    ]


def test_costs_take_a_runs_details_and_a_notebooks_time_on_the_runners_size():
    now_ms = int((DAY + timedelta(days=1, seconds=90)).timestamp() * 1000)
    rows = {(row["definition"], row["kind"]): row for row in costs(JOBS, NAMES, {"w": 0.0123}, now_ms)}
    fargate = lambda seconds: estimate_cost(NOTEBOOK_RUNNER, "fargate", seconds, arch="arm")  # noqa: E731
    assert rows["prices", "notebook"]["cost_usd"] == round(fargate(120) + fargate(30) + fargate(10), 6)
    assert fargate(10) == fargate(60)  # Fargate bills a minute at least
    assert rows["daily", "workflow"] == {"definition": "daily", "kind": "workflow", "jobs": 1, "cost_usd": 0.0123}
    assert rows[NO_DEFINITION, "notebook"]["cost_usd"] == round(fargate(90), 6)  # still running: to now
    assert Resources(cpu=1, memory_mb=4096) == NOTEBOOK_RUNNER  # the runner's task definition (infra reads it)


def test_reading_stops_at_the_limit_and_says_so():
    pages = {None: (["1", "2"], "t1"), "t1": (["3", "4"], "t2"), "t2": (["5"], None)}

    def fetch(query: ListJobsQuery) -> ListJobsResponse:
        ids, token = pages[query.next_token]
        return ListJobsResponse(jobs=[job(i, Status.COMPLETED, DAY, 1) for i in ids], next_token=token)

    query = window_query(timedelta(days=7), DAY)
    assert query.start_time == int((DAY - timedelta(days=7)).timestamp() * 1000)
    found, capped = bounded_jobs(fetch, query, limit=3)
    assert ([j.job_id for j in found], capped) == (["1", "2", "3"], True)
    found, capped = bounded_jobs(fetch, query, limit=5)
    assert ([j.job_id for j in found], capped) == (["1", "2", "3", "4", "5"], False)


def definition(name: str, **fields: object) -> DescribeJobDefinition:
    return DescribeJobDefinition(
        job_definition_id=name, name=name, version=1, input_filename="n.ipynb", input_prefix="p/", create_time=0,
        update_time=0, active_since=0, **fields,
    )  # fmt: skip


def test_upcoming_fires_within_24_hours_in_their_zone_and_in_utc():
    tokyo = ZoneInfo("Asia/Tokyo")
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    made = definition("reports", schedule="0 9 * * *", timezone="Asia/Tokyo")
    fires = [datetime(2026, 12, day, 9, tzinfo=tokyo) for day in (2, 3)]  # 00:00 UTC on the 2nd, then the 3rd
    preview = SchedulePreview(schedule="0 9 * * *", timezone="Asia/Tokyo", in_words="", start=now, fires=fires)
    (row,) = upcoming_fires([(made, preview)], now)
    assert (row["definition"], row["local_time"], row["utc"]) == (
        "reports", "2026-12-02 09:00 JST", datetime(2026, 12, 2, 0, tzinfo=UTC)
    )  # fmt: skip


def test_only_active_definitions_with_a_schedule_fire():
    kept = definition("kept", schedule="0 9 * * *")
    others = [definition("paused", schedule="0 9 * * *", active=False), definition("on-demand")]
    assert scheduled([kept, *others]) == [kept]
