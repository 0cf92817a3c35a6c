"""One workflow run: its DAG coloured by task state, a Gantt of its tasks, per task its logs, result, resources and
cost; stop it while it runs, rerun it (partly or fully) once it ended. Refreshes itself while the run is live."""

from __future__ import annotations

import time
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend
from dashboard.helpers.runs import (
    PROVISIONING,
    RUNNING,
    STATE_COLOURS,
    dag_dot,
    details_rows,
    gantt_rows,
    launched,
    legend_html,
    log_text,
    seconds_between,
)
from dashboard.widgets import pointer_to_list
from shiftwork.errors import ShiftworkError
from shiftwork.models import DescribeJob
from shiftwork.models.workflow import RunDetails, TaskDetails, TaskResultInfo, TaskStatus

LIVE_REFRESH_SECONDS = 2
MAX_LOG_BATCHES = 20  # a task's log read in at most this many batches per render


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_run(run_id: str) -> DescribeJob:
    return backend().workflows.get_run(run_id)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_details(run_id: str) -> RunDetails:
    return backend().workflows.details(run_id)


@st.cache_data(ttl=60, show_spinner=False)
def read_result(run_id: str, task_id: str, end_time: int | None) -> TaskResultInfo:
    """A task's result, read again when the task ended again (a retry, a rerun's own)."""
    return backend().workflows.result(run_id, task_id)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_logs(run_id: str, task_id: str) -> str:
    """The task's log, oldest first, in as many batches as it takes (up to MAX_LOG_BATCHES)."""
    events: list[dict[str, Any]] = []
    token = None
    for _ in range(MAX_LOG_BATCHES):
        batch, next_token = backend().workflows.logs(run_id, task_id, token)
        events += batch
        if not batch or next_token in (None, token):
            break
        token = next_token
    return log_text(events)


def forget(run_id: str) -> None:
    """What an action changed: the run and its details are read again."""
    read_run.clear(run_id)
    read_details.clear(run_id)


def header(run: DescribeJob) -> None:
    now = int(time.time() * 1000)
    duration = seconds_between(run.start_time, run.end_time, now)
    st.caption(f"run `{run.job_id}` · {run.status.value}" + (f" · {duration:.1f} s" if duration is not None else ""))
    if run.status_message and run.status.value != "COMPLETED":
        st.warning(run.status_message)
    if run.original_run_id:
        kind = "partial" if run.partial_rerun else "full"
        st.page_link(
            "views/run.py", label=f"{kind} rerun of {run.original_run_id}", icon=":material/replay:",
            query_params={keys.RUN_PARAM: run.original_run_id},
        )  # fmt: skip
    if run.job_definition_id:
        st.page_link(
            "views/definition.py", label=f"definition {run.job_definition_id} v{run.job_definition_version}",
            icon=":material/event:", query_params={keys.DEFINITION_PARAM: run.job_definition_id},
        )  # fmt: skip


def actions(run: DescribeJob) -> None:
    row = st.container(horizontal=True)
    if row.button("Stop", key=keys.RUN_STOP, disabled=run.is_terminal, icon=":material/stop:"):
        try:
            backend().workflows.stop(run.job_id)
        except ShiftworkError as error:
            st.error(str(error))
            return
        forget(run.job_id)
        st.rerun()
    finished = "" if run.is_terminal else " (once the run has ended)"
    partial = row.button(
        "Partial rerun", key=keys.RUN_RERUN_PARTIAL, disabled=not run.is_terminal, icon=":material/replay:",
        help="A new run reusing this run's completed tasks" + finished,
    )  # fmt: skip
    full = row.button(
        "Full rerun", key=keys.RUN_RERUN_FULL, disabled=not run.is_terminal, icon=":material/restart_alt:",
        help="A new run of every task" + finished,
    )  # fmt: skip
    if partial or full:
        try:
            new = backend().workflows.rerun(run.job_id, full=full)
        except ShiftworkError as error:
            st.error(str(error))
            return
        forget(run.job_id)
        st.switch_page("views/run.py", query_params={keys.RUN_PARAM: new.job_id})


def usd(amount: float | None) -> str:
    """Dollars to the digits a task's cost needs (a short task costs hundredths of a cent)."""
    return "-" if amount is None else f"${amount:.4f}" if amount >= 0.01 else f"${amount:.6f}"


def summary(details: RunDetails) -> None:
    tasks = details.tasks
    counts = {state: sum(t.status == state for t in tasks) for state in (TaskStatus.COMPLETED, TaskStatus.FAILED)}
    cols = st.columns(4)
    cols[0].metric("Tasks completed", f"{counts[TaskStatus.COMPLETED]}/{len(tasks)}")
    cols[1].metric("Failed", counts[TaskStatus.FAILED])
    cols[2].metric("Wall time", "-" if details.wall_seconds is None else f"{details.wall_seconds:.1f} s")
    cols[3].metric("Estimated cost", usd(details.total_cost_usd), help=f"{details.reused} tasks reused")


def gantt(details: RunDetails) -> None:
    rows = gantt_rows(details.tasks, int(time.time() * 1000))
    if not rows:
        st.info("No task has been queued yet.")
        return
    order = list(dict.fromkeys(row["task"] for row in rows))
    states = list(STATE_COLOURS)
    chart = (
        alt.Chart(pd.DataFrame(rows), title="Task times: provisioning (faint) apart from running")
        .mark_bar(cornerRadius=2)
        .encode(
            y=alt.Y("task:N", sort=order, title=None),
            x=alt.X("start:T", title="time (UTC)", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%H:%M:%S")),
            x2="end:T",
            color=alt.Color(
                "state:N", scale=alt.Scale(domain=[s.value for s in states], range=[STATE_COLOURS[s] for s in states])
            ),
            opacity=alt.Opacity("phase:N", scale=alt.Scale(domain=[PROVISIONING, RUNNING], range=[0.35, 1.0])),
            tooltip=["task", "phase", "state", "seconds"],
        )
    )
    st.altair_chart(chart, width="stretch")
    if details.reused:
        st.caption(f"{details.reused} tasks reused from the original run are not drawn: they ran there.")


def task_panel(run_id: str, details: RunDetails) -> None:
    by_id = {task.task_id: task for task in details.tasks}
    if not by_id:
        st.info("The run has no tasks yet: they appear once it starts.")
        return
    chosen = st.selectbox(
        "Task", list(by_id), key=keys.RUN_TASK, format_func=lambda t: f"{t} · {by_id[t].status.value}"
    )
    task = by_id[chosen]
    st.markdown(
        f"**Requested** {task.requested.describe()} · **Launched with** {launched(task)} · "
        f"**Executor** {task.executor.value} · **Estimated cost** {usd(task.cost_usd)}",
        help="Launched with: the size the executor gave it, the request rounded up to a size Fargate offers",
    )
    if task.reused_from:
        st.info(f"Reused the result of run {task.reused_from}.")
    if task.status_message:
        if task.status == TaskStatus.FAILED:
            st.error(task.status_message)
        else:
            st.caption(task.status_message)
    if task.error_traceback:
        st.code(task.error_traceback, language="python")
    result_view(run_id, task)
    st.subheader("Logs")
    if task.map_count is not None:
        st.caption("A mapped task's logs are its instances': pick one of them.")
    else:
        st.code(read_logs(run_id, task.task_id) or "(no output yet)", language=None)


def result_view(run_id: str, task: TaskDetails) -> None:
    if task.status != TaskStatus.COMPLETED:
        return
    st.subheader("Result")
    try:
        info = read_result(run_id, task.task_id, task.end_time)
    except ShiftworkError as error:
        st.warning(str(error))
        return
    if info.format == "json":
        st.json(info.value, expanded=1)
    else:
        st.caption("A pickled Python object: load it with `pickle.load` (only from runs you trust).")
        st.link_button("Download result.pickle", info.download_url or "", icon=":material/download:")


run_id = st.query_params.get(keys.RUN_PARAM)
if not run_id:
    pointer_to_list(
        "Run", "Open a run from the list of workflow runs.", "views/runs.py", "Workflow runs", ":material/account_tree:"
    )
    st.stop()
try:
    run = read_run(run_id)
except ShiftworkError as error:
    st.title("Run")
    st.error(str(error))
    st.stop()
st.title(run.name)
header(run)
actions(run)


@st.fragment(run_every=None if run.is_terminal else LIVE_REFRESH_SECONDS)
def live_view(run: DescribeJob) -> None:
    """Everything that changes while the run goes on; once it has ended the whole page renders once more."""
    run_id = run.job_id
    details = read_details(run_id)
    if not run.is_terminal and read_run(run_id).is_terminal:
        st.rerun(scope="app")  # its buttons and header change with its end
    summary(details)
    st.graphviz_chart(dag_dot(details.tasks), width="stretch")
    st.html(f'<div style="font-size:0.85em">{legend_html()}</div>')
    gantt(details)
    st.dataframe(
        details_rows(details), hide_index=True, key="run_tasks_table",
        column_config={
            "task": "Task", "status": "Status", "attempt": "Attempt", "executor": "Executor",
            "requested": "Requested", "launched": st.column_config.TextColumn("Launched with", help="Fargate rounding"),
            "provisioning_s": st.column_config.NumberColumn("Provisioning (s)", format="%.1f"),
            "running_s": st.column_config.NumberColumn("Running (s)", format="%.1f"),
            "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="%.6f"), "reused_from": "Reused from",
        },
    )  # fmt: skip
    task_panel(run_id, details)


live_view(run)
