"""Job: every field, parameters, the error with its traceback, files, the notebook inline, live logs; act on it."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend
from dashboard.helpers import jobs as helpers
from dashboard.helpers.notebook_html import notebook_to_html, sandboxed
from dashboard.widgets import pointer_to_list
from shiftwork.errors import NotFound, ShiftworkError
from shiftwork.models import DescribeJob

LOG_REFRESH_SECONDS = 2  # while the job runs, its logs are followed this often
LOG_SETTLE_SECONDS = 10  # an ended job's last lines may reach its log after its status: followed this much longer
MAX_LOG_BATCHES = 20  # batches of log events one refresh reads at most
LOGS = "job_logs"  # session state: {job_id: {"events": [...], "token": ..., "final": bool}}
PENDING_DELETE = "job_pending_delete"
NOTICE = "job_notice"
HTML_HEIGHT = 900


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def get_job(job_id: str) -> DescribeJob:
    return backend().get_job(job_id)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def file_urls(job_id: str, update_time: int) -> list[dict[str, str]]:
    """Presigned links to the job's files as of this version of the job (a new write lists them again)."""
    return list(backend().download_urls(job_id))


@st.cache_data(ttl=3600, max_entries=20, show_spinner="Rendering the notebook…")
def rendered(job_id: str, path: str, _url: str) -> str:
    """The job's HTML output as it made it, or its output notebook rendered with nbconvert."""
    with urllib.request.urlopen(_url, timeout=60) as response:  # a presigned S3 link, made by the backend
        text = response.read().decode("utf-8", errors="replace")
    return text if path.endswith(".html") else notebook_to_html(text)


def forget(job_id: str) -> None:
    get_job.clear()
    file_urls.clear()
    st.session_state.get(LOGS, {}).pop(job_id, None)


def header(job: DescribeJob) -> None:
    st.title(job.name)
    created = f"{helpers.moment(job.create_time):%Y-%m-%d %H:%M:%S} UTC"
    st.caption(f"Job {job.job_id} · {job.input_filename} · created {created}")
    status, duration, attempt, kernel = st.columns([3, 2, 1, 2])  # wide enough for IN_PROGRESS, unclipped
    status.metric("Status", job.status.value)
    seconds = helpers.duration_seconds(job, helpers.now_ms())
    duration.metric("Duration", "—" if seconds is None else f"{seconds:.1f} s")
    attempt.metric("Attempt", job.attempt)
    kernel.metric("Kernel", job.kernel_name or "the notebook's")
    if job.kind == "workflow":
        st.page_link(
            "views/run.py",
            label="Open this workflow run (DAG, Gantt, tasks)",
            icon=":material/account_tree:",
            query_params={keys.RUN_PARAM: job.job_id},
        )


def act(job: DescribeJob) -> None:
    """Stop, Delete (confirmed), Rerun."""
    stop, delete, rerun, _ = st.columns([1, 1, 1, 4])
    if stop.button("Stop", key=keys.JOB_STOP, disabled=job.is_terminal, icon=":material/stop:"):
        run_action(job, "Stop asked.", backend().stop_job)
    if delete.button("Delete", key=keys.JOB_DELETE, disabled=not job.is_terminal, icon=":material/delete:"):
        st.session_state[PENDING_DELETE] = job.job_id
    if rerun.button("Rerun", key=keys.JOB_RERUN, disabled=job.kind == "workflow", icon=":material/replay:"):
        try:
            new = backend().rerun_job(job.job_id)
        except ShiftworkError as error:
            st.error(str(error))
        else:
            forget(job.job_id)
            st.switch_page("views/job.py", query_params={keys.JOB_PARAM: new.job_id})
    if st.session_state.get(PENDING_DELETE) == job.job_id:
        st.warning("Delete this job with its files? This cannot be undone.")
        if st.button("Confirm delete", key=keys.JOB_DELETE_CONFIRM, type="primary"):
            del st.session_state[PENDING_DELETE]
            try:
                backend().delete_job(job.job_id)
            except ShiftworkError as error:
                st.error(str(error))
            else:
                forget(job.job_id)
                st.switch_page("views/jobs.py")


def run_action(job: DescribeJob, message: str, action: Any) -> None:
    try:
        action(job.job_id)
    except ShiftworkError as error:
        st.session_state[NOTICE] = ("warning", str(error))
    else:
        st.session_state[NOTICE] = ("success", message)
    forget(job.job_id)
    st.rerun()


def details(job: DescribeJob) -> None:
    """Every field, the parameters, and the error with its traceback."""
    if job.status_message:
        (st.error if job.status.value == "FAILED" else st.info)(job.status_message)
    if job.error_traceback:
        st.code(job.error_traceback, language="python")
    fields, parameters = st.columns([3, 2])
    with fields:
        st.subheader("Details")
        st.dataframe(pd.DataFrame(helpers.field_rows(job)), hide_index=True, width="stretch", height=420)
    with parameters:
        st.subheader("Parameters")
        if job.parameters:
            st.dataframe(pd.DataFrame(helpers.parameter_rows(job.parameters)), hide_index=True, width="stretch")
        else:
            st.caption("None: the notebook's own defaults.")
    with st.expander("Raw record (JSON)"):
        st.json(job.model_dump(mode="json"), expanded=False)


def outputs(job: DescribeJob) -> None:
    """The files as links, and the executed notebook rendered inline."""
    urls = file_urls(job.job_id, job.update_time)
    st.subheader("Files")
    if not urls:
        st.caption("No files yet." if not job.is_terminal else "This job left no files.")
        return
    table = pd.DataFrame([{"file": u["path"], "format": u["file_format"], "download": u["url"]} for u in urls])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"download": st.column_config.LinkColumn("download", display_text="download")},
    )
    source = helpers.rendered_source(urls)
    if source is not None and job.is_terminal:
        st.subheader("Executed notebook")
        try:
            html = rendered(job.job_id, source["path"], source["url"])
        except (OSError, ValueError) as error:
            st.warning(f"{source['path']} could not be shown: {error}")
        else:
            components.html(sandboxed(html, HTML_HEIGHT - 10), height=HTML_HEIGHT)


def follow_logs(job_id: str) -> None:
    """The job's log, read on from where the last refresh stopped; reread whole once when the job has ended."""
    job = get_job(job_id)
    state = st.session_state.setdefault(LOGS, {}).setdefault(job_id, {"events": [], "token": None, "final": False})
    if job.is_terminal and not state["final"]:
        state.update(events=[], token=None, final=True)  # the whole log, from CloudWatch or the archive
    for _ in range(MAX_LOG_BATCHES):
        events, token = backend().job_logs(job_id, state["token"])
        state["events"] += events
        moved, state["token"] = token != state["token"], token
        if not events or not moved:
            break
    st.subheader("Logs")
    if not job.is_terminal:
        st.caption(f"{job.status.value}: following the log every {LOG_REFRESH_SECONDS} s")
    st.code(helpers.log_text(state["events"]) or "(no output yet)", language="text", height=360)
    if job.is_terminal and st.session_state.get("job_live") == job_id:
        st.session_state.pop("job_live")
        st.rerun()  # it has ended: the whole page again (status, files, the rendered notebook)


def notice() -> None:
    if NOTICE in st.session_state:
        kind, message = st.session_state.pop(NOTICE)
        (st.success if kind == "success" else st.warning)(message)


def page() -> None:
    job_id = st.query_params.get(keys.JOB_PARAM)
    if not job_id:
        pointer_to_list("Job", "Open a job from the Jobs page.", "views/jobs.py", "Jobs", ":material/list:")
        return
    try:
        job = get_job(job_id)
    except NotFound as error:
        st.title("Job")
        st.warning(str(error))
        st.page_link("views/jobs.py", label="Jobs", icon=":material/list:")
        return
    header(job)
    notice()
    act(job)
    details(job)
    if not job.is_terminal:
        st.session_state["job_live"] = job.job_id
    following = helpers.still_logging(job, int(time.time() * 1000), LOG_SETTLE_SECONDS)
    st.fragment(run_every=LOG_REFRESH_SECONDS if following else None)(follow_logs)(job.job_id)
    outputs(job)


page()
