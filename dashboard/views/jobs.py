"""Jobs: a page at a time through the API (filtered, sorted, next_token); stop, delete or download a selection."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend
from dashboard.helpers import jobs as helpers
from shiftwork.errors import InvalidSpec
from shiftwork.models import DescribeJob, ListJobsQuery, ListJobsResponse, Status
from shiftwork.models.job import JOB_SORT_FIELDS

REFRESH_SECONDS = 3  # while a shown job can still change, the table rereads its page this often
TOKENS = "jobs_tokens"  # the next_tokens of the pages walked to: [None, page 2's, ...]; the last is shown
SEEN_FILTERS = "jobs_seen_filters"
LIVE = "jobs_live"  # whether the last read showed a job that can still change (the fragment's timer is on)
SHOWN = "jobs_shown_ids"
GENERATION = "jobs_table_generation"
NOTICE = "jobs_notice"
PENDING_DELETE = "jobs_pending_delete"
ZIP = "jobs_zip"


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def list_page(query_json: str) -> ListJobsResponse:
    """One page of jobs (one Query), reused by the renders within the TTL."""
    return backend().list_jobs(ListJobsQuery.model_validate_json(query_json))


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def definition_names() -> dict[str, str]:
    """The first page of definitions, id -> name (beyond it the table shows a definition's id)."""
    page = backend().definitions.list(max_items=200)
    return {d.job_definition_id: d.name for d in page.job_definitions}


def read_filters() -> helpers.JobFilters:
    """The filter widgets, in one row; a new filter starts again from the first page."""
    names = definition_names()
    row = st.columns([2, 3, 3, 2, 2, 2])  # what is shown
    status = row[0].selectbox(
        "Status", [None, *Status], format_func=lambda s: "any" if s is None else s.value, key=keys.JOBS_STATUS
    )
    definition = row[1].selectbox(
        "Definition",
        [None, *names],
        format_func=lambda d: "any" if d is None else names.get(d, d),
        key=keys.JOBS_DEFINITION,
    )
    name = row[2].text_input("Name starts with", key=keys.JOBS_NAME)
    tag = row[3].text_input("Tag", key=keys.JOBS_TAG)
    started_from: date | None = row[4].date_input("Started from", value=None, key=keys.JOBS_STARTED_FROM)
    started_to: date | None = row[5].date_input("Started to", value=None, key=keys.JOBS_STARTED_TO)
    order = st.columns([3, 2, 2, 2, 5], vertical_alignment="bottom")  # in which order, how many
    sort_field = order[0].selectbox("Sort by", JOB_SORT_FIELDS, format_func=helpers.sort_label, key=keys.JOBS_SORT)
    descending = order[1].toggle("Descending", value=True, key=keys.JOBS_DESCENDING)
    show_skipped = order[2].checkbox("Show skipped", key=keys.JOBS_SHOW_SKIPPED)
    size = order[3].selectbox("Rows per page", helpers.PAGE_SIZES, index=2, key=keys.JOBS_PAGE_SIZE)
    filters = helpers.JobFilters(
        status,
        definition,
        name,
        tag,
        started_from,
        started_to,
        show_skipped,
        sort_field or "create_time",
        descending,
        size,
    )
    try:
        helpers.to_query(filters)
    except InvalidSpec as error:
        row[5].error(str(error))
        st.stop()
    if st.session_state.get(SEEN_FILTERS) != filters:
        st.session_state[SEEN_FILTERS] = filters
        st.session_state[TOKENS] = [None]
    return filters


def read_page(filters: helpers.JobFilters) -> ListJobsResponse | InvalidSpec:
    """The page the token stack points at, or the API's refusal (an order over too many jobs)."""
    tokens = st.session_state.setdefault(TOKENS, [None])
    query = helpers.to_query(filters, tokens[-1])
    try:
        return list_page(query.model_dump_json())
    except InvalidSpec as error:
        return error


def next_page(token: str) -> None:
    st.session_state[TOKENS].append(token)


def previous_page() -> None:
    if len(st.session_state[TOKENS]) > 1:
        st.session_state[TOKENS].pop()


def table_key(jobs: list[DescribeJob]) -> str:
    """The table's key: a new one when the rows shown change, so a selection never points at other jobs."""
    ids = [job.job_id for job in jobs]
    if st.session_state.get(SHOWN) != ids:
        st.session_state[SHOWN] = ids
        st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1
    return f"{keys.JOBS_TABLE}_{st.session_state[GENERATION]}"


def show_table(jobs: list[DescribeJob]) -> list[DescribeJob]:
    """The page as a table; returns the jobs selected in it."""
    rows = helpers.job_rows(jobs, definition_names(), helpers.now_ms())
    event = st.dataframe(
        pd.DataFrame(rows, columns=helpers.COLUMNS),
        key=table_key(jobs),
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        width="stretch",
        column_config={
            "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm:ss"),
            "duration (s)": st.column_config.NumberColumn("duration (s)", format="%.1f"),
            "id": st.column_config.TextColumn("id", width="small"),
        },
    )
    return helpers.selected(jobs, event.selection.rows)


def pager(page: ListJobsResponse) -> None:
    tokens = st.session_state[TOKENS]
    left, middle, right = st.columns([1, 2, 1])
    left.button("Previous page", key=keys.JOBS_PREVIOUS, disabled=len(tokens) == 1, on_click=previous_page)
    middle.caption(f"Page {len(tokens)} · {len(page.jobs)} jobs")
    right.button(
        "Next page",
        key=keys.JOBS_NEXT,
        disabled=not page.next_token,
        on_click=next_page,
        args=(page.next_token,),
    )


def acted(verb: str, outcome: helpers.Outcome) -> None:
    """Remember what an action did for the next render, forget the cached page, and render again."""
    message = f"{verb} {len(outcome.done)} job(s)."
    st.session_state[NOTICE] = (message, outcome.refused)
    list_page.clear()
    st.rerun()


def actions(chosen: list[DescribeJob]) -> None:
    """Stop, Delete (confirmed) and Download, applied to exactly the selected jobs."""
    none = not chosen
    stop, delete, download, _ = st.columns([1, 1, 1, 4])
    if stop.button("Stop", key=keys.JOBS_STOP, disabled=none, icon=":material/stop:"):
        acted("Stopped", helpers.apply_each(backend().stop_job, chosen))
    if delete.button("Delete", key=keys.JOBS_DELETE, disabled=none, icon=":material/delete:"):
        st.session_state[PENDING_DELETE] = [job.job_id for job in chosen]
    pending = st.session_state.get(PENDING_DELETE)
    if pending and pending == [job.job_id for job in chosen]:
        st.warning(f"Delete {len(chosen)} job(s) with their files? This cannot be undone.")
        if st.button("Confirm delete", key=keys.JOBS_DELETE_CONFIRM, type="primary"):
            del st.session_state[PENDING_DELETE]
            acted("Deleted", helpers.apply_each(backend().delete_job, chosen))
    if download.button("Download", key=keys.JOBS_DOWNLOAD, disabled=none, icon=":material/download:"):
        st.session_state[ZIP] = ([job.job_id for job in chosen], zipped(chosen))
    ready = st.session_state.get(ZIP)
    if ready and ready[0] == [job.job_id for job in chosen]:
        st.download_button(
            f"Save the files of {len(chosen)} job(s) (.zip)",
            data=ready[1],
            file_name="shiftwork-jobs.zip",
            mime="application/zip",
            key="jobs_save_zip",
        )


def zipped(chosen: list[DescribeJob]) -> bytes:
    """The selected jobs' files, each job in its own folder, as one zip."""
    with tempfile.TemporaryDirectory(prefix="shiftwork-download-") as folder:
        for job in chosen:
            backend().download_job_files(job.job_id, Path(folder) / helpers.download_folder(job))
        return helpers.zip_folder(Path(folder))


def openers(jobs: list[DescribeJob], chosen: list[DescribeJob]) -> None:
    """Links to the selected jobs' pages, and "Open a job" for any job shown."""
    for job in chosen:
        label, link = helpers.open_label(job), {keys.JOB_PARAM: job.job_id}
        st.page_link("views/job.py", label=label, icon=":material/description:", query_params=link)
    labels = {job.job_id: helpers.open_label(job) for job in jobs}
    choice, button = st.columns([3, 1], vertical_alignment="bottom")
    picked = choice.selectbox("Open a job", list(labels), format_func=lambda job_id: labels[job_id], key=keys.JOBS_OPEN)
    if button.button("Open", key=keys.JOBS_OPEN_BUTTON, disabled=picked is None) and picked is not None:
        st.switch_page("views/job.py", query_params={keys.JOB_PARAM: picked})


def notice() -> None:
    if NOTICE in st.session_state:
        message, refused = st.session_state.pop(NOTICE)
        st.success(message)
        for line in refused:
            st.warning(line)


def listing(filters: helpers.JobFilters) -> None:
    """The table and what acts on it: the fragment that refreshes itself while a shown job can change."""
    page = read_page(filters)
    if isinstance(page, InvalidSpec):
        st.error(f"{page.field}: {page}")
        return
    if helpers.any_live(page.jobs) != st.session_state.get(LIVE, False):
        st.rerun()  # the whole page again, to arm (or stop) the fragment's timer
    notice()
    chosen = show_table(page.jobs)
    if not page.jobs:
        st.info("No jobs match these filters." if len(st.session_state[TOKENS]) == 1 else "No more jobs.")
    pager(page)
    actions(chosen)
    openers(page.jobs, chosen)


def page() -> None:
    st.title("Jobs")
    filters = read_filters()
    first = read_page(filters)  # cached: the fragment's own read reuses it; it says whether to arm the timer
    st.session_state[LIVE] = isinstance(first, ListJobsResponse) and helpers.any_live(first.jobs)
    st.fragment(run_every=REFRESH_SECONDS if st.session_state[LIVE] else None)(listing)(filters)


page()
