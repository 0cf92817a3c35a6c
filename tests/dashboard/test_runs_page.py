"""The runs list: each run with its tasks completed and failed, filters that page through the API, opening a run."""

from __future__ import annotations

import contextlib
import uuid

import streamlit as st

from dashboard import keys
from shiftwork.api.service import Service
from shiftwork.models import Status
from tests.dashboard import runs_workflow
from tests.functional import conftest as functional_fixtures

diamond, diamond_run = runs_workflow.diamond, runs_workflow.diamond_run  # the module's run
make_job = functional_fixtures.make_job


def rows(app):
    return app.dataframe[0].value.to_dict("records")


def test_a_run_is_listed_with_its_status_tasks_started_and_duration(open_remote_page, diamond_run):
    app = open_remote_page("views/runs.py")
    app.text_input(key=keys.RUNS_NAME).input("dash-diamond").run()
    assert not app.exception, app.exception
    (row,) = [row for row in rows(app) if row["link"].endswith(diamond_run.job_id)]
    assert (row["name"], row["status"], row["completed"], row["failed"]) == ("dash-diamond", "FAILED", "7/9", 2)
    assert row["started"].timestamp() * 1000 == diamond_run.start_time
    assert row["duration_s"] == round((diamond_run.end_time - diamond_run.start_time) / 1000, 1)
    assert row["link"] == f"run?run={diamond_run.job_id}"


def test_the_status_and_name_filters(open_page, diamond_run):
    app = open_page("views/runs.py")
    app.text_input(key=keys.RUNS_NAME).input("dash-diamond").run()
    app.selectbox(key=keys.RUNS_STATUS).select("FAILED").run()
    assert diamond_run.job_id in {row["run"] for row in rows(app)}
    assert {row["status"] for row in rows(app)} == {"FAILED"}
    app.selectbox(key=keys.RUNS_STATUS).select("COMPLETED").run()
    assert not app.dataframe or diamond_run.job_id not in {row["run"] for row in rows(app)}
    app.text_input(key=keys.RUNS_NAME).input(f"none-{uuid.uuid4()}").run()
    assert not app.dataframe and app.info[0].value == "No runs match."


def test_the_definition_filter_keeps_that_definitions_runs(open_page, diamond, make_job):
    service = Service()
    own = f"dash-def-{uuid.uuid4().hex[:8]}"  # an id of its own: the diamond's name is other modules' id too
    definition = diamond.deploy(using=service, name=own, job_definition_id=own)
    try:
        made = make_job(
            Status.COMPLETED, kind="workflow", name="dash-of-def", job_definition_id=definition.job_definition_id
        )
        st.cache_data.clear()  # the reads' ttl passed: the new definition is offered
        app = open_page("views/runs.py")
        app.selectbox(key=keys.RUNS_DEFINITION).select(definition.job_definition_id).run()
        assert [row["run"] for row in rows(app)] == [made.job_id]
    finally:
        with contextlib.suppress(Exception):
            service.definitions.delete(definition.job_definition_id)


def test_pages_follow_next_token(open_remote_page, make_job):
    prefix = f"paged-{uuid.uuid4().hex[:8]}"
    made = [make_job(Status.COMPLETED, kind="workflow", name=f"{prefix}-{i}").job_id for i in range(21)]
    app = open_remote_page("views/runs.py")
    app.text_input(key=keys.RUNS_NAME).input(prefix).run()
    first = [row["run"] for row in rows(app)]
    assert len(first) == 20 and app.button(key=keys.RUNS_PREVIOUS).disabled
    app.button(key=keys.RUNS_NEXT).click().run()
    second = [row["run"] for row in rows(app)]
    assert len(second) == 1 and set(first) | set(second) == set(made)
    assert app.button(key=keys.RUNS_NEXT).disabled
    app.button(key=keys.RUNS_PREVIOUS).click().run()
    assert [row["run"] for row in rows(app)] == first


def test_opening_a_run_shows_its_page(open_page, diamond_run):
    app = open_page("views/runs.py")
    app.text_input(key=keys.RUNS_NAME).input("dash-diamond").run()
    app.selectbox(key=keys.RUNS_OPEN).select(diamond_run.job_id).run()
    app.button(key=keys.RUNS_OPEN_BUTTON).click().run()
    assert not app.exception, app.exception
    assert app.query_params[keys.RUN_PARAM] == diamond_run.job_id and app.title[0].value == "dash-diamond"
