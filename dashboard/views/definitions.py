"""Definitions: every job definition, when it fires next and how its last run went; pause, resume, run now, edit,
delete the one selected."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend, definition_name
from dashboard.helpers import definitions as helpers
from dashboard.helpers.create import field_error
from dashboard.widgets import pager
from shiftwork.errors import InvalidSpec, ShiftworkError
from shiftwork.models import (
    DescribeJob,
    DescribeJobDefinition,
    ListJobDefinitionsQuery,
    ListJobDefinitionsResponse,
    ListJobsQuery,
    SchedulePreview,
)

NAME, STATE, TAG = "defs_name", "defs_state", "defs_tag"
PREVIOUS, NEXT, TOKENS = "defs_previous", "defs_next", "defs_tokens"
SELECTED, FLASH = "defs_selected", "defs_flash"
PAUSE, RESUME, RESUME_MODE, RESUME_AT = "defs_pause", "defs_resume", "defs_resume_mode", "defs_resume_at"
RUN_PARAMETERS, RUN = "defs_run_parameters", "defs_run"
EDIT_PARAMETERS, EDIT_SCHEDULE, EDIT_TIMEZONE = "defs_edit_parameters", "defs_edit_schedule", "defs_edit_timezone"
EDIT_FORMATS, EDIT_SAVE, EDIT_FOR = "defs_edit_formats", "defs_edit_save", "defs_edit_for"
DELETE_CONFIRM, DELETE = "defs_delete_confirm", "defs_delete"
RESUME_NOW, RESUME_FROM = "from now (what was missed is skipped)", "from a past time (its fires are owed)"


# -- reads (cached: one render's reads serve the next ones for READ_TTL_SECONDS) -------------------------------
@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_page(query_json: str) -> ListJobDefinitionsResponse:
    return backend().definitions.list(query=ListJobDefinitionsQuery.model_validate_json(query_json))


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_preview(schedule: str, timezone: str) -> SchedulePreview | None:
    try:
        return backend().preview_schedule(schedule, timezone, count=helpers.FIRES_SHOWN)
    except InvalidSpec:  # stored before a rule changed: shown without fires rather than not at all
        return None


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_last_job(definition_id: str) -> DescribeJob | None:
    jobs = backend().list_jobs(ListJobsQuery(job_definition_id=definition_id, max_items=1)).jobs
    return jobs[0] if jobs else None


@st.cache_data(ttl=60, show_spinner=False)
def read_formats() -> list[str]:
    environments = backend().runtime_environments()
    return [f.name for f in environments[0].output_formats] if environments else ["ipynb"]


def preview_of(definition: DescribeJobDefinition) -> SchedulePreview | None:
    return read_preview(definition.schedule, definition.timezone) if definition.schedule else None


# -- the list ----------------------------------------------------------------------------------------------
def reset_paging() -> None:
    st.session_state[TOKENS] = [None]


def filters() -> ListJobDefinitionsQuery:
    """The filter widgets, as the query of the page shown."""
    st.session_state.setdefault(TOKENS, [None])
    name_col, state_col, tag_col = st.columns([2, 1, 1])
    name = name_col.text_input("Name starts with", key=NAME, on_change=reset_paging)
    state = state_col.selectbox("State", helpers.STATES, key=STATE, on_change=reset_paging)
    tag = tag_col.text_input("Tag", key=TAG, on_change=reset_paging)
    return helpers.definitions_query(name, state, tag, st.session_state[TOKENS][-1])


def table(page: ListJobDefinitionsResponse) -> None:
    rows = []
    for definition in page.job_definitions:
        upstream = definition_name(definition.run_after) if definition.run_after else None
        row = helpers.definition_row(
            definition, preview_of(definition), read_last_job(definition.job_definition_id), upstream
        )
        row["open"] = f"definition?{keys.DEFINITION_PARAM}={definition.job_definition_id}"
        rows.append(row)
    st.dataframe(
        rows,
        hide_index=True,
        key="defs_table",
        column_order=[
            "open",
            "name",
            "state",
            "last run",
            "when",
            "next fires",
            "schedule",
            "timezone",
            "version",
            "tags",
        ],
        column_config={
            "open": st.column_config.LinkColumn("", display_text="open", width="small"),
            "next fires": st.column_config.ListColumn("next fires", width="large"),
        },
    )


def page_buttons(page: ListJobDefinitionsResponse) -> None:
    pager(st.session_state[TOKENS], page.next_token, previous_key=PREVIOUS, next_key=NEXT)


# -- actions on the selected definition ----------------------------------------------------------------------
def done(message: str, job: DescribeJob | None = None) -> None:
    """After an action: what it did is shown on the next run, every cached read is dropped, and the page reruns."""
    st.session_state[FLASH] = (message, job.job_id if job else None)
    st.cache_data.clear()
    st.rerun()


def failed(error: Exception, slots: dict[str, Any]) -> None:
    """The error under the widget it names (else under the action)."""
    slot, message = field_error(error)
    (slots.get(slot) or slots["form"]).error(message)


def flash() -> None:
    message, job_id = st.session_state.pop(FLASH, (None, None))
    if message:
        st.success(message)
    if job_id:
        st.page_link(
            "views/job.py", label="Open the job", icon=":material/open_in_new:", query_params={keys.JOB_PARAM: job_id}
        )


def pause_resume(definition: DescribeJobDefinition) -> None:
    definitions = backend().definitions
    if definition.active:
        st.write(f"**{definition.name}** is active.")
        slots = {"form": st.empty()}
        if st.button("Pause", key=PAUSE, icon=":material/pause:"):
            try:
                definitions.pause(definition.job_definition_id)
            except ShiftworkError as error:  # changed or deleted meanwhile
                failed(error, slots)
                return
            done(f"Paused {definition.name}: its schedules fire no more until it is resumed.")
        return
    st.write(f"**{definition.name}** is paused.")
    mode = st.radio("Resume", [RESUME_NOW, RESUME_FROM], key=RESUME_MODE)
    moment = None
    if mode == RESUME_FROM:
        moment = st.datetime_input(
            f"From (wall time, {definition.timezone})", value=datetime.now() - timedelta(hours=1), key=RESUME_AT
        )
    slots = {"form": st.empty()}
    if st.button("Resume", key=RESUME, icon=":material/play_arrow:"):
        try:
            definitions.resume(
                definition.job_definition_id, helpers.resume_from("now" if mode == RESUME_NOW else "from", moment)
            )
        except ShiftworkError as error:
            failed(error, slots)
            return
        done(f"Resumed {definition.name}.")


def run_now(definition: DescribeJobDefinition) -> None:
    st.text_area("Parameters, one NAME=VALUE a line (VALUE is JSON if it parses, as -p reads it)", key=RUN_PARAMETERS)
    slots = {"parameters": st.empty(), "form": st.empty()}
    if st.button("Run now", key=RUN, icon=":material/rocket_launch:"):
        try:
            job = backend().definitions.run(
                definition.job_definition_id, helpers.read_parameters(st.session_state[RUN_PARAMETERS])
            )
        except ShiftworkError as error:
            failed(error, slots)
            return
        done(f"Started {job.name} ({job.job_id}).", job)


def reset_edits(definition: DescribeJobDefinition) -> None:
    """The edit and run widgets start from the selected definition's values (again when another is selected)."""
    if st.session_state.get(EDIT_FOR) == (definition.job_definition_id, definition.version):
        return
    st.session_state[EDIT_FOR] = (definition.job_definition_id, definition.version)
    st.session_state[EDIT_PARAMETERS] = helpers.parameters_text(definition.parameters)
    st.session_state[RUN_PARAMETERS] = helpers.parameters_text(definition.parameters)
    st.session_state[EDIT_SCHEDULE] = definition.schedule or ""
    st.session_state[EDIT_TIMEZONE] = definition.timezone
    st.session_state[EDIT_FORMATS] = [f for f in definition.output_formats if f in read_formats()]


def live_preview(slot: Any) -> None:
    """The next fires of what the schedule field holds now."""
    schedule, timezone = st.session_state[EDIT_SCHEDULE].strip(), st.session_state[EDIT_TIMEZONE]
    if not schedule:
        return
    try:
        preview = backend().preview_schedule(schedule, timezone, count=helpers.FIRES_SHOWN)
    except ShiftworkError as error:
        slot.error(str(error))
        return
    slot.caption(f"{preview.in_words} — next: " + helpers.fires_text(preview))


@st.fragment
def edit(definition: DescribeJobDefinition) -> None:
    """Parameters, schedule (its next fires previewed as it is typed), time zone and formats: a new version."""
    st.text_area("Parameters (NAME=VALUE lines)", key=EDIT_PARAMETERS)
    parameters_slot = st.empty()
    if definition.run_after:
        st.caption(
            f"Runs {helpers.run_after_text(definition, definition_name(definition.run_after))}: no schedule to edit."
        )
    else:
        st.text_input("Schedule (cron, rate(...), at(...) or a JSON trigger)", key=EDIT_SCHEDULE, live=True)
    schedule_slot = st.empty()
    zones = sorted(zoneinfo.available_timezones() | {definition.timezone})
    st.selectbox("Time zone", zones, key=EDIT_TIMEZONE)
    timezone_slot = st.empty()
    if not definition.run_after:
        live_preview(schedule_slot)
    st.multiselect("Output formats (the notebook is always kept)", read_formats(), key=EDIT_FORMATS)
    slots = {
        "parameters": parameters_slot,
        "schedule": schedule_slot,
        "timezone": timezone_slot,
        "formats": st.empty(),
        "form": st.empty(),
    }
    if st.button("Save as a new version", key=EDIT_SAVE, icon=":material/save:"):
        state = st.session_state
        try:
            changes = helpers.edit_changes(
                definition,
                state[EDIT_PARAMETERS],
                state.get(EDIT_SCHEDULE, ""),
                state[EDIT_TIMEZONE],
                state[EDIT_FORMATS],
            )
            if not changes.model_dump(exclude_none=True):
                slots["form"].info("Nothing changed.")
                return
            updated = backend().definitions.update(definition.job_definition_id, changes)
        except (ShiftworkError, ValueError) as error:  # pydantic's ValidationError is a ValueError
            failed(error, slots)
            return
        done(f"Saved {updated.name} as version {updated.version}.")


def delete(definition: DescribeJobDefinition) -> None:
    st.write("Deleting removes its schedules and notebook snapshots; the jobs it ran stay.")
    confirmed = st.checkbox(f"Yes, delete {definition.name}", key=DELETE_CONFIRM)
    slots = {"form": st.empty()}
    if st.button("Delete", key=DELETE, icon=":material/delete:", type="primary", disabled=not confirmed):
        try:
            backend().definitions.delete(definition.job_definition_id)
        except ShiftworkError as error:
            failed(error, slots)
            return
        st.session_state.pop(SELECTED, None)
        done(f"Deleted {definition.name}.")


def actions(page: ListJobDefinitionsResponse) -> None:
    by_id = {d.job_definition_id: d for d in page.job_definitions}
    if st.session_state.get(SELECTED) not in by_id:  # filtered out or deleted: set, so the browser shows it too
        st.session_state[SELECTED] = next(iter(by_id))
    chosen = st.selectbox(
        "Act on", list(by_id), key=SELECTED, format_func=lambda i: f"{by_id[i].name} · v{by_id[i].version} · {i[:8]}"
    )
    definition = by_id[chosen]
    reset_edits(definition)
    st.page_link(
        "views/definition.py",
        label="Its jobs and versions",
        icon=":material/history:",
        query_params={keys.DEFINITION_PARAM: chosen},
    )
    run_tab, state_tab, edit_tab, delete_tab = st.tabs(["Run now", "Pause / resume", "Edit", "Delete"])
    with run_tab:
        run_now(definition)
    with state_tab:
        pause_resume(definition)
    with edit_tab:
        edit(definition)
    with delete_tab:
        delete(definition)


def render() -> None:
    st.title("Definitions")
    flash()
    page = read_page(filters().model_dump_json())
    if not page.job_definitions:
        st.info("No definitions match. Make one on the Create page, or with `shiftwork definition create`.")
        return
    table(page)
    page_buttons(page)
    actions(page)


if __name__ == "__main__":  # run as a page; imported (by tests, for its widget keys) it renders nothing
    render()
