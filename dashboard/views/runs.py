"""Workflow runs, newest first: filtered by status, definition and name prefix, paged by next_token; open one."""

from __future__ import annotations

import time

import streamlit as st

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend
from dashboard.helpers.runs import run_row, runs_query
from shiftwork.errors import ShiftworkError
from shiftwork.models import DescribeJob, Status
from shiftwork.models.definition import ListJobDefinitionsQuery
from shiftwork.models.workflow import DescribeTask

LIVE_REFRESH_SECONDS = 3


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def runs_page(
    status: str | None, definition: str | None, name: str | None, token: str | None
) -> tuple[list[DescribeJob], str | None]:
    page = backend().list_jobs(runs_query(status, definition, name, token))
    return page.jobs, page.next_token


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def run_tasks(run_id: str) -> list[DescribeTask]:
    return backend().workflows.tasks(run_id)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def workflow_definitions() -> dict[str, str]:
    """Workflow definitions' ids -> names (the first page: what the filter offers)."""
    page = backend().definitions.list(query=ListJobDefinitionsQuery(max_items=1000))
    return {d.job_definition_id: d.name for d in page.job_definitions if d.kind == "workflow"}


def restart_paging() -> None:
    st.session_state[keys.RUNS_TOKENS] = []


def filters() -> tuple[str | None, str | None, str | None]:
    left, middle, right = st.columns(3)
    status = left.selectbox(
        "Status", [None, *(s.value for s in Status)], key=keys.RUNS_STATUS, on_change=restart_paging,
        format_func=lambda value: value or "any",
    )  # fmt: skip
    names = workflow_definitions()
    definition = middle.selectbox(
        "Definition", [None, *names], key=keys.RUNS_DEFINITION, on_change=restart_paging,
        format_func=lambda value: "any" if value is None else f"{names.get(value, value)} ({value[:8]})",
    )  # fmt: skip
    name = right.text_input("Name starts with", key=keys.RUNS_NAME, on_change=restart_paging)
    return status, definition, name or None


def open_run(runs: list[DescribeJob]) -> None:
    if not runs:
        return
    labels = {run.job_id: f"{run.name} · {run.status.value} · {run.job_id}" for run in runs}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Open a run", list(labels), key=keys.RUNS_OPEN, format_func=labels.__getitem__)
    if right.button("Open", key=keys.RUNS_OPEN_BUTTON, type="primary"):
        st.switch_page("views/run.py", query_params={keys.RUN_PARAM: chosen})


def pager(next_token: str | None) -> None:
    tokens: list[str | None] = st.session_state.setdefault(keys.RUNS_TOKENS, [])
    row = st.container(horizontal=True)
    if row.button("Previous page", key=keys.RUNS_PREVIOUS, disabled=not tokens):
        tokens.pop()
        st.rerun()
    if row.button("Next page", key=keys.RUNS_NEXT, disabled=not next_token):
        tokens.append(next_token)
        st.rerun()


def show(runs: list[DescribeJob]) -> None:
    now = int(time.time() * 1000)
    rows = [run_row(run, run_tasks(run.job_id), now) for run in runs]
    for row in rows:
        row["link"] = f"run?{keys.RUN_PARAM}={row['run']}"
    st.dataframe(
        rows,
        hide_index=True,
        key="runs_table",
        column_order=["link", "name", "status", "completed", "failed", "started", "duration_s", "rerun_of"],
        column_config={
            "link": st.column_config.LinkColumn("Run", display_text=r"run\?run=(.{8})", help="open the run"),
            "name": st.column_config.TextColumn("Name"),
            "status": st.column_config.TextColumn("Status"),
            "completed": st.column_config.TextColumn("Tasks completed"),
            "failed": st.column_config.NumberColumn("Tasks failed"),
            "started": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "duration_s": st.column_config.NumberColumn("Duration (s)", format="%.1f"),
            "rerun_of": st.column_config.TextColumn("Rerun of"),
        },
    )


st.title("Workflow runs")
status, definition, name = filters()
token = (st.session_state.get(keys.RUNS_TOKENS) or [None])[-1]
try:
    runs, next_token = runs_page(status, definition, name, token)
except ShiftworkError as error:
    st.error(str(error))
    st.stop()
live = any(not run.is_terminal for run in runs)


@st.fragment(run_every=LIVE_REFRESH_SECONDS if live else None)
def listing() -> None:
    """The page's runs, read again on a timer while one of them is live."""
    shown, _ = runs_page(status, definition, name, token) if live else (runs, next_token)
    if not shown:
        st.info("No runs match." if status or definition or name else "No workflow runs yet: run one with "
                "`shiftwork workflow run FILE.py:FUNCTION`.")  # fmt: skip
        return
    show(shown)


listing()
open_run(runs)
pager(next_token)
