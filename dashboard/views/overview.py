"""Overview: over a chosen window, jobs per day by status, durations, failure rate and estimated cost per
definition; the fires of the next 24 hours."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend
from dashboard.helpers.overview import (
    HORIZON,
    MAX_JOBS,
    WINDOWS,
    bounded_jobs,
    costs,
    durations,
    failure_rates,
    jobs_per_day,
    scheduled,
    upcoming_fires,
    window_query,
)
from dashboard.helpers.runs import STATE_COLOURS
from shiftwork.errors import ShiftworkError
from shiftwork.models import DescribeJob, DescribeJobDefinition, Status
from shiftwork.models.definition import ListJobDefinitionsQuery, SchedulePreview
from shiftwork.models.resources import NOTEBOOK_RUNNER, STACK_ARCH
from shiftwork.models.workflow import TaskStatus

MAX_COSTED_RUNS = 200  # workflow runs whose details one render reads for their cost
MAX_DEFINITION_PAGES = 3
MAX_FIRES = 100  # fires previewed per definition (more than 100 in a day: the table says "at least")
# a job's status in the colour a task in that state has on the run page; the statuses only jobs have in their own
JOB_ONLY_COLOURS = {Status.CREATED: "#eeeeee", Status.STOPPING: "#ce93d8", Status.SKIPPED: "#bdbdbd"}
STATUS_COLOURS = {s.value: JOB_ONLY_COLOURS.get(s) or STATE_COLOURS[TaskStatus(s.value)] for s in Status}


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_window(window: str, minute: int) -> tuple[list[DescribeJob], bool]:
    """The jobs started in the window ending at this minute (ms), bounded at MAX_JOBS."""
    query = window_query(WINDOWS[window], datetime.fromtimestamp(minute / 1000, UTC))
    return bounded_jobs(backend().list_jobs, query, MAX_JOBS)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_definitions() -> list[DescribeJobDefinition]:
    found: list[DescribeJobDefinition] = []
    token = None
    for _ in range(MAX_DEFINITION_PAGES):
        page = backend().definitions.list(query=ListJobDefinitionsQuery(max_items=1000, next_token=token))
        found += page.job_definitions
        token = page.next_token
        if not token:
            break
    return found


@st.cache_data(ttl=600, show_spinner=False)
def run_cost(run_id: str, update_time: int) -> float:
    """A workflow run's estimated cost (its details' total): read again only when the run has changed."""
    return backend().workflows.details(run_id).total_cost_usd


@st.cache_data(ttl=10, show_spinner=False)
def read_previews(
    versions: tuple[tuple[str, int], ...], _definitions: list[DescribeJobDefinition]
) -> tuple[list[tuple[DescribeJobDefinition, SchedulePreview]], list[str]]:
    """Each scheduled definition's next fires from now, and the definitions whose schedule could not be previewed.

    versions: the definitions' (id, update time), what the cached answer depends on.
    """
    previews, refused = [], []
    for definition in scheduled(_definitions):
        try:
            preview = backend().preview_schedule(definition.schedule or "", definition.timezone, count=MAX_FIRES)
        except ShiftworkError as error:
            refused.append(f"{definition.name}: {error}")
            continue
        previews.append((definition, preview))
    return previews, refused


def workflow_costs(jobs: list[DescribeJob]) -> tuple[dict[str, float], int]:
    """The estimated cost of each of the first MAX_COSTED_RUNS workflow runs, and how many runs were left out."""
    runs = [job for job in jobs if job.kind == "workflow" and job.start_time is not None]
    found = {}
    for run in runs[:MAX_COSTED_RUNS]:
        try:
            found[run.job_id] = run_cost(run.job_id, run.update_time)
        except ShiftworkError:
            continue  # deleted since the list was read
    return found, max(0, len(runs) - MAX_COSTED_RUNS)


def status_scale() -> alt.Scale:
    return alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))


def per_day_chart(rows: list[dict]) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame(rows).astype({"day": str}), title="Jobs per day (UTC) by status")
        .mark_bar()
        .encode(
            x=alt.X("day:O", title="day", axis=alt.Axis(labelAngle=-45)),  # one bar a day, whatever the window
            y=alt.Y("sum(jobs):Q", title="jobs"),
            color=alt.Color("status:N", scale=status_scale()),
            tooltip=["day", "status", "jobs"],
        )
    )


def durations_chart(rows: list[dict]) -> alt.Chart:
    base = alt.Chart(pd.DataFrame(rows), title="Run time per definition (s)")
    box = base.mark_boxplot(extent="min-max", opacity=0.5).encode(
        y=alt.Y("definition:N", title=None), x=alt.X("seconds:Q", title="seconds")
    )
    points = base.mark_circle(size=40).encode(
        y="definition:N", x="seconds:Q", color=alt.Color("status:N", scale=status_scale()),
        tooltip=["name", "job", "status", "seconds"],
    )  # fmt: skip
    return box + points


def failure_chart(rows: list[dict]) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame(rows), title="Failure rate per definition (failed of ended)")
        .mark_bar(color=STATUS_COLOURS["FAILED"])
        .encode(
            y=alt.Y("definition:N", title=None),
            x=alt.X("failure_rate:Q", title="failed", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            tooltip=["definition", "ended", "failed", alt.Tooltip("failure_rate:Q", format=".0%")],
        )
    )


def cost_chart(rows: list[dict]) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame(rows), title="Estimated cost per definition (USD)")
        .mark_bar()
        .encode(
            y=alt.Y("definition:N", title=None),
            x=alt.X("sum(cost_usd):Q", title="USD"),
            color=alt.Color("kind:N", title="kind"),
            tooltip=["definition", "kind", "jobs", alt.Tooltip("cost_usd:Q", format="$.5f")],
        )
    )


def charts(jobs: list[DescribeJob], names: dict[str, str]) -> None:
    now_ms = int(time.time() * 1000)
    run_costs, uncosted = workflow_costs(jobs)
    cost_rows = costs(jobs, names, run_costs, now_ms)
    cols = st.columns(4)
    cols[0].metric("Jobs started", len(jobs))
    cols[1].metric("Failed", sum(job.status == Status.FAILED for job in jobs))
    cols[2].metric("Running", sum(not job.is_terminal for job in jobs))
    cols[3].metric("Estimated cost", f"${sum(row['cost_usd'] for row in cost_rows):.4f}")
    left, right = st.columns(2)
    left.altair_chart(per_day_chart(jobs_per_day(jobs)), width="stretch")
    ended = durations(jobs, names)
    if ended:
        right.altair_chart(durations_chart(ended), width="stretch")
    rates = failure_rates(jobs, names)
    if rates:
        left.altair_chart(failure_chart(rates), width="stretch")
    if cost_rows:
        right.altair_chart(cost_chart(cost_rows), width="stretch")
    st.caption(
        f"Cost: a workflow run's from its tasks' sizes and times; a notebook job's from its run time on the runner's "
        f"Fargate size ({NOTEBOOK_RUNNER.describe()}, {STACK_ARCH}). Estimates at on-demand prices."
        + (f" {uncosted} more workflow runs were not costed (first {MAX_COSTED_RUNS} only)." if uncosted else "")
    )


def upcoming(definitions: list[DescribeJobDefinition]) -> None:
    st.subheader("Upcoming fires (next 24 hours)")
    now = datetime.now(UTC)
    previews, refused = read_previews(tuple((d.job_definition_id, d.update_time) for d in definitions), definitions)
    rows = upcoming_fires(previews, now)
    for note in refused:
        st.warning(f"Its schedule could not be previewed: {note}")
    if not rows:
        st.info("No schedule fires in the next 24 hours.")
        return
    full = [d.name for d, p in previews if len(p.fires) == MAX_FIRES and p.fires[-1] < now + HORIZON]
    st.dataframe(
        rows, hide_index=True, key="overview_upcoming",
        column_order=["definition", "local_time", "timezone", "utc"],
        column_config={
            "definition": "Definition", "local_time": "In its time zone", "timezone": "Time zone",
            "utc": st.column_config.DatetimeColumn("UTC", format="YYYY-MM-DD HH:mm", timezone="UTC"),
        },
    )  # fmt: skip
    if full:
        st.caption(f"Only the first {MAX_FIRES} fires of {', '.join(full)} are listed.")


st.title("Overview")
window = st.selectbox("Window", list(WINDOWS), index=1, key=keys.OVERVIEW_WINDOW)
minute = int(time.time() // 60 * 60_000)
try:
    jobs, capped = read_window(window, minute)
    definitions = read_definitions()
except ShiftworkError as error:
    st.error(str(error))
    st.stop()
if capped:
    st.warning(f"Stopped reading at {MAX_JOBS} jobs: the figures cover the newest pages only; choose a shorter window.")
if jobs:
    charts(jobs, {d.job_definition_id: d.name for d in definitions})
else:
    st.info(f"No job started in the last {window}.")
upcoming(definitions)
