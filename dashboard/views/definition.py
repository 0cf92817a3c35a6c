"""One definition: its settings, when it fires next, the jobs it ran (paged) and every version it had; a workflow
definition's tasks as a graph."""

from __future__ import annotations

import streamlit as st

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend, definition_name
from dashboard.helpers import definitions as helpers
from dashboard.widgets import pager, pointer_to_list
from shiftwork.errors import InvalidSpec, NotFound
from shiftwork.models import DescribeJobDefinition, ListJobsQuery, ListJobsResponse, SchedulePreview

JOBS_PAGE = 25
PREVIOUS, NEXT, TOKENS = "def_jobs_previous", "def_jobs_next", "def_jobs_tokens"


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_definition(definition_id: str) -> DescribeJobDefinition:
    return backend().definitions.get(definition_id)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_jobs(definition_id: str, next_token: str | None) -> ListJobsResponse:
    query = ListJobsQuery(job_definition_id=definition_id, max_items=JOBS_PAGE, next_token=next_token)
    return backend().list_jobs(query)


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_versions(definition_id: str) -> list[DescribeJobDefinition]:
    return list(backend().definitions.versions(definition_id))


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_preview(schedule: str, timezone: str) -> SchedulePreview | None:
    try:
        return backend().preview_schedule(schedule, timezone, count=helpers.FIRES_SHOWN)
    except InvalidSpec:
        return None


def summary(definition: DescribeJobDefinition) -> None:
    preview = read_preview(definition.schedule, definition.timezone) if definition.schedule else None
    upstream = definition_name(definition.run_after) if definition.run_after else None
    state, version, kind = st.columns(3)
    state.metric("State", "active" if definition.active else "paused")
    version.metric("Version", definition.version)
    kind.metric("Kind", definition.kind)
    st.markdown(f"**When:** {helpers.when_text(definition, preview, upstream)}")
    if definition.schedule:
        st.markdown(f"**Schedule as written:** `{definition.schedule}` ({definition.timezone})")
    if preview:
        st.markdown("**Next fires:** " + " · ".join(helpers.fire_text(f, preview.timezone) for f in preview.fires))
    details = {
        "id": definition.job_definition_id,
        "notebook": definition.input_filename,
        "kernel": definition.kernel_name,
        "output formats": definition.output_formats,
        "parameters": definition.parameters,
        "tags": definition.tags,
        "max running jobs": definition.max_running_jobs,
        "retries": definition.max_retries,
        "coalesce": definition.coalesce.value,
        "watch prefix": definition.watch_prefix,
    }
    with st.expander("Settings"):
        st.json(details)


def jobs(definition_id: str) -> None:
    st.subheader("Jobs")
    if st.session_state.get(f"{TOKENS}_for") != definition_id:
        st.session_state[TOKENS], st.session_state[f"{TOKENS}_for"] = [None], definition_id
    tokens = st.session_state[TOKENS]
    page = read_jobs(definition_id, tokens[-1])
    if not page.jobs:
        st.caption("It has not run yet.")
        return
    rows = [{**helpers.job_row(job), "open": f"job?{keys.JOB_PARAM}={job.job_id}"} for job in page.jobs]
    st.dataframe(
        rows,
        hide_index=True,
        key="def_jobs",
        column_order=["open", "name", "status", "version", "created", "scheduled for", "parameters"],
        column_config={
            "open": st.column_config.LinkColumn("", display_text="open", width="small"),
            "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        },
    )
    pager(tokens, page.next_token, previous_key=PREVIOUS, next_key=NEXT, labels=("Newer", "Older"))


def versions(definition_id: str) -> None:
    st.subheader("Versions")
    rows = [helpers.version_row(v) for v in read_versions(definition_id)]
    st.dataframe(
        rows,
        hide_index=True,
        key="def_versions",
        column_config={"made": st.column_config.DatetimeColumn("made (UTC)", format="YYYY-MM-DD HH:mm:ss")},
    )


def tasks(definition: DescribeJobDefinition) -> None:
    found = helpers.workflow_tasks(definition)
    if not found:
        return
    st.subheader("Tasks")
    st.graphviz_chart(helpers.workflow_dot(found))
    st.dataframe(found, hide_index=True, key="def_tasks")


def render() -> None:
    definition_id = st.query_params.get(keys.DEFINITION_PARAM)
    if not definition_id:
        pointer_to_list(
            "Definition",
            "Pick a definition on the Definitions page.",
            "views/definitions.py",
            "Definitions",
            ":material/event_repeat:",
        )
        return
    try:
        definition = read_definition(definition_id)
    except (NotFound, InvalidSpec):
        st.title("Definition")
        st.error(f"Definition {definition_id!r} not found: it may have been deleted.")
        st.page_link("views/definitions.py", label="Definitions", icon=":material/event_repeat:")
        return
    st.title(definition.name)
    summary(definition)
    tasks(definition)
    jobs(definition_id)
    versions(definition_id)


if __name__ == "__main__":  # run as a page; imported (by tests, for its widget keys) it renders nothing
    render()
