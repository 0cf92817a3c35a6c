"""Create: a notebook (uploaded, or picked from the stack's inbox), its parameters as a form built from its
parameters cell, formats and kernel; then run it now, or schedule it with its next fires previewed as it is typed.

Only the parameters changed from the notebook's defaults are sent: the rest stay the notebook's own (a default the
form cannot hold, such as `datetime.now()`, keeps working), and a job's parameters show what was asked of it.
"""

from __future__ import annotations

import hashlib
import tempfile
import zoneinfo
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import keys
from dashboard.backend import READ_TTL_SECONDS, backend
from dashboard.helpers.create import ParameterField, changed_parameters, field_error, parameter_fields
from dashboard.helpers.definitions import FIRES_SHOWN, fires_text
from shiftwork.errors import ShiftworkError
from shiftwork.models import CreateJob, CreateJobDefinition
from shiftwork.models.stack import InboxNotebook, RuntimeEnvironment

SOURCE, UPLOAD, INBOX = "create_source", "create_upload", "create_inbox"
NAME, FORMATS, KERNEL, MODE = "create_name", "create_formats", "create_kernel", "create_mode"
SCHEDULE, TIMEZONE = "create_schedule", "create_timezone"
RUN, SUBMIT_SCHEDULE = "create_run", "create_schedule_submit"
FOR, FOLDER, FLASH = "create_for", "create_folder", "create_flash"
PARAMETER_PREFIX = "create_param_"
FROM_UPLOAD, FROM_INBOX = "Upload a notebook", "From the stack's inbox"
RUN_NOW, ON_A_SCHEDULE = "Run now", "On a schedule"
INBOX_PAGES = 5  # pages of the inbox offered (5,000 notebooks at most)


def parameter_key(name: str) -> str:
    return f"{PARAMETER_PREFIX}{name}"


@st.cache_data(ttl=60, show_spinner=False)
def read_environments() -> list[RuntimeEnvironment]:
    return list(backend().runtime_environments())


@st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)
def read_inbox() -> list[InboxNotebook]:
    found, token = [], None
    for _ in range(INBOX_PAGES):
        page = backend().inbox(max_items=1000, next_token=token)
        found += page.notebooks
        token = page.next_token
        if token is None:
            break
    return found


def folder() -> Path:
    """This session's folder for the notebook being created (the Service and the Client read it from disk)."""
    if FOLDER not in st.session_state:
        st.session_state[FOLDER] = tempfile.mkdtemp(prefix="shiftwork-dashboard-")
    return Path(st.session_state[FOLDER])


def chosen_notebook(slots: dict[str, Any]) -> Path | None:
    """The notebook to create from, written to this session's folder: an upload, or a fetched inbox notebook."""
    source = st.radio("Notebook", [FROM_UPLOAD, FROM_INBOX], key=SOURCE, horizontal=True)
    if source == FROM_UPLOAD:
        uploaded = st.file_uploader("Notebook (.ipynb)", type=["ipynb"], key=UPLOAD)
        slots["notebook"] = st.empty()
        if uploaded is None:
            return None
        target = folder() / "upload" / Path(uploaded.name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(uploaded.getvalue())
        return target
    notebooks = read_inbox()
    if not notebooks:
        st.info("The inbox is empty: `shiftwork upload NOTEBOOK` puts one there (and runs it).")
        return None
    by_key = {n.key: n for n in notebooks}
    key = st.selectbox(
        "Inbox notebook",
        list(by_key),
        key=INBOX,
        format_func=lambda k: f"{k} · {by_key[k].size:,} B · {by_key[k].last_modified:%Y-%m-%d %H:%M} UTC",
    )
    slots["notebook"] = st.empty()
    try:
        return Path(backend().fetch_inbox(key, folder() / "inbox" / hashlib.sha1(key.encode()).hexdigest()[:10]))
    except ShiftworkError as error:
        slots["notebook"].error(str(error))
        return None


def reset_form(notebook: Path, fields: list[ParameterField]) -> None:
    """A different notebook: its own defaults in the form (and its stem as the name)."""
    identity = (str(notebook), hashlib.sha1(notebook.read_bytes()).hexdigest())
    if st.session_state.get(FOR) == identity:
        return
    st.session_state[FOR] = identity
    for key in [k for k in st.session_state if str(k).startswith(PARAMETER_PREFIX)]:
        del st.session_state[key]
    for field in fields:
        initial = field.initial_text if field.kind == "json" else field.default
        st.session_state[parameter_key(field.name)] = initial
    st.session_state[NAME] = notebook.stem


def parameter_widget(field: ParameterField) -> None:
    label, key = f"{field.name} ({'JSON' if field.kind == 'json' else field.kind})", parameter_key(field.name)
    tip = field.help or f"default: {field.written}"
    if field.kind == "int":
        st.number_input(label, step=1, key=key, help=tip)
    elif field.kind == "float":
        st.number_input(label, key=key, help=tip, format="%g")
    elif field.kind == "bool":
        st.checkbox(label, key=key, help=tip)
    elif field.kind == "str":
        st.text_input(label, key=key, help=tip)
    else:
        st.text_input(label, key=key, help=tip, placeholder=f"the notebook's: {field.written}")


def parameters_form(fields: list[ParameterField], slots: dict[str, Any]) -> None:
    st.subheader("Parameters")
    if not fields:
        st.caption("The notebook has no cell tagged `parameters`: nothing to set.")
    else:
        st.caption("From the notebook's parameters cell. Only values you change are sent; the rest stay its own.")
    for field in fields:
        parameter_widget(field)
        slots[f"parameters.{field.name}"] = st.empty()
    slots["parameters"] = st.empty()


def run_settings(notebook: Path, slots: dict[str, Any]) -> None:
    import nbformat

    environments = read_environments()
    formats = [f.name for f in environments[0].output_formats] if environments else ["ipynb"]
    st.text_input("Name", key=NAME)
    slots["name"] = st.empty()
    st.multiselect("Output formats (the notebook is always kept)", formats, default=["ipynb"], key=FORMATS)
    slots["formats"] = st.empty()
    kernels = [e.name for e in environments] or ["python3"]
    own = nbformat.read(str(notebook), as_version=4).metadata.get("kernelspec", {}).get("name")
    labels = {e.name: e.label for e in environments}
    st.selectbox(
        "Kernel",
        kernels,
        index=kernels.index(own) if own in kernels else 0,
        key=KERNEL,
        format_func=lambda k: labels.get(k, k),
    )
    slots["kernel"] = st.empty()


def request_fields(notebook: Path, fields: list[ParameterField]) -> dict[str, Any]:
    """What both a job and a definition are made with (raises InvalidSpec on a bad parameter value)."""
    state = st.session_state
    values = {f.name: state[parameter_key(f.name)] for f in fields if parameter_key(f.name) in state}
    return {
        "input_uri": str(notebook),
        "name": state.get(NAME, "").strip() or None,
        "parameters": changed_parameters(fields, values),
        "output_formats": state.get(FORMATS) or ["ipynb"],
        "kernel_name": state.get(KERNEL),
    }


def failed(error: Exception, slots: dict[str, Any]) -> None:
    slot, message = field_error(error)
    (slots.get(slot) or slots["form"]).error(message)


def done(message: str, link: tuple[str, str, str] | None) -> None:
    st.session_state[FLASH] = (message, link)
    st.cache_data.clear()
    st.rerun()


def run_now(notebook: Path, fields: list[ParameterField], slots: dict[str, Any]) -> None:
    slots["form"] = st.empty()
    if not st.button("Run now", key=RUN, type="primary", icon=":material/rocket_launch:"):
        return
    try:
        job = backend().create_job(CreateJob(**request_fields(notebook, fields)))
    except (ShiftworkError, ValueError) as error:  # pydantic's ValidationError is a ValueError
        failed(error, slots)
        return
    done(f"Started job {job.name} ({job.job_id}).", ("views/job.py", keys.JOB_PARAM, job.job_id))


def schedule_preview(slot: Any) -> None:
    schedule = st.session_state.get(SCHEDULE, "").strip()
    if not schedule:
        slot.caption("Cron (`0 9 * * mon-fri`), `rate(1 hour)`, `at(2026-03-27T09:00)`, or a JSON trigger.")
        return
    try:
        preview = backend().preview_schedule(schedule, st.session_state[TIMEZONE], count=FIRES_SHOWN)
    except ShiftworkError as error:
        slot.error(str(error))
        return
    slot.caption(f"{preview.in_words} — next: " + fires_text(preview))


@st.fragment
def schedule_form(notebook: Path, fields: list[ParameterField], slots: dict[str, Any]) -> None:
    """Schedule text and time zone, the next fires previewed as it is typed; saving makes a definition."""
    st.text_input("Schedule", key=SCHEDULE, live=True)
    slots["schedule"] = st.empty()
    st.session_state.setdefault(TIMEZONE, "UTC")
    st.selectbox("Time zone", sorted(zoneinfo.available_timezones()), key=TIMEZONE)
    slots["timezone"] = st.empty()
    schedule_preview(slots["schedule"])
    slots["form"] = st.empty()
    if not st.button("Schedule", key=SUBMIT_SCHEDULE, type="primary", icon=":material/event_repeat:"):
        return
    try:
        request = CreateJobDefinition(
            **request_fields(notebook, fields),
            schedule=st.session_state.get(SCHEDULE, "").strip() or None,
            timezone=st.session_state[TIMEZONE],
        )
        made = backend().definitions.create(request)
    except (ShiftworkError, ValueError) as error:
        failed(error, slots)
        return
    link = ("views/definition.py", keys.DEFINITION_PARAM, made.job_definition_id)
    done(f"Scheduled {made.name} ({made.job_definition_id}).", link)


def flash() -> None:
    message, link = st.session_state.pop(FLASH, (None, None))
    if message:
        st.success(message)
    if link:
        page, param, value = link
        st.page_link(page, label="Open it", icon=":material/open_in_new:", query_params={param: value})


def render() -> None:
    st.title("Create")
    flash()
    slots: dict[str, Any] = {}
    notebook = chosen_notebook(slots)
    if notebook is None:
        return
    try:
        fields = parameter_fields(notebook)
    except Exception as error:  # noqa: BLE001 - not a notebook papermill can read: said beside the uploader
        slots["notebook"].error(f"notebook {notebook.name!r}: cannot be read as a Jupyter notebook ({error})")
        return
    reset_form(notebook, fields)
    parameters_form(fields, slots)
    st.subheader("How it runs")
    run_settings(notebook, slots)
    mode = st.radio("When", [RUN_NOW, ON_A_SCHEDULE], key=MODE, horizontal=True)
    if mode == RUN_NOW:
        run_now(notebook, fields, slots)
    else:
        schedule_form(notebook, fields, slots)


if __name__ == "__main__":  # run as a page; imported (by tests, for its widget keys) it renders nothing
    render()
