"""The Jobs page in AppTest over the session's stack: filters, paging with next_token, skipped runs hidden, and bulk
stop / delete / download applied to exactly the selected rows (read back from moto)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from dashboard import keys
from dashboard.helpers.jobs import day_start_ms
from shiftwork.errors import NotFound
from shiftwork.models import Status
from tests.dashboard.jobs_support import make_job, unique_tag


def shown(app):
    """The names in the table, top to bottom."""
    return list(app.dataframe[0].value["name"])


def tagged(open_page, tag, **widgets):
    """The Jobs page filtered to one test's tag (its jobs only), with other widgets set, read afresh."""
    import streamlit as st

    st.cache_data.clear()  # the page's reads (cached for 2 s) are this test's, not the previous one's
    app = open_page("views/jobs.py")
    app.text_input(key=keys.JOBS_TAG).set_value(tag)
    for key, value in widgets.items():
        widget = app.selectbox(key=key) if key in {keys.JOBS_STATUS, keys.JOBS_PAGE_SIZE} else app.text_input(key=key)
        widget.set_value(value)
    return app.run()


def select(app, *rows):
    """Tick these rows of the table (AppTest sets a dataframe's selection through its key in session state)."""
    app.session_state[app.dataframe[0].key] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    return app.run()


def status_of(job_id):
    from shiftwork.store import jobs

    return jobs.get(job_id).status


def test_name_prefix_and_status_filters_change_the_rows(open_page, tmp_path):
    tag = unique_tag()
    make_job(tmp_path, Status.COMPLETED, name="sales-daily", tags=[tag], create_time=1_000)
    make_job(tmp_path, Status.FAILED, name="sales-weekly", tags=[tag], create_time=2_000)
    make_job(tmp_path, Status.COMPLETED, name="costs", tags=[tag], create_time=3_000)
    app = tagged(open_page, tag)
    assert not app.exception, app.exception
    assert shown(app) == ["costs", "sales-weekly", "sales-daily"]
    assert list(app.dataframe[0].value.columns)[:5] == ["name", "input file", "output files", "created", "status"]
    app.text_input(key=keys.JOBS_NAME).set_value("sales").run()
    assert shown(app) == ["sales-weekly", "sales-daily"]
    app.selectbox(key=keys.JOBS_STATUS).set_value(Status.FAILED).run()
    assert shown(app) == ["sales-weekly"]
    assert list(app.dataframe[0].value["status"]) == ["FAILED"]


def test_a_start_day_range_and_the_sort_order_change_the_rows(open_page, tmp_path):
    tag = unique_tag()
    for day in (1, 2, 3):
        started = day_start_ms(date(2026, 3, day)) + 3_600_000
        ended = started + 2_500
        make_job(tmp_path, Status.COMPLETED, name=f"march-{day}", tags=[tag], start_time=started, end_time=ended)
    app = tagged(open_page, tag)
    app.date_input(key=keys.JOBS_STARTED_FROM).set_value(date(2026, 3, 2))
    app.date_input(key=keys.JOBS_STARTED_TO).set_value(date(2026, 3, 3)).run()
    assert sorted(shown(app)) == ["march-2", "march-3"]
    assert list(app.dataframe[0].value["duration (s)"]) == [2.5, 2.5]
    app.selectbox(key=keys.JOBS_SORT).set_value("name")
    app.toggle(key=keys.JOBS_DESCENDING).set_value(False).run()
    assert shown(app) == ["march-2", "march-3"]
    app.date_input(key=keys.JOBS_STARTED_FROM).set_value(date(2026, 3, 4)).run()
    assert "pick a day on or after 2026-03-04" in app.error[0].value  # shown beside the field; nothing listed
    assert not app.dataframe


def test_next_and_previous_page_follow_next_token(open_page, tmp_path):
    tag = unique_tag()
    for index in range(12):
        name, made = f"job-{index:02}", 10_000 + index
        make_job(tmp_path, Status.COMPLETED, upload=False, name=name, tags=[tag], create_time=made)
    app = tagged(open_page, tag, **{keys.JOBS_PAGE_SIZE: 10})
    assert shown(app) == [f"job-{index:02}" for index in range(11, 1, -1)]
    assert app.button(key=keys.JOBS_PREVIOUS).disabled
    app.button(key=keys.JOBS_NEXT).click().run()
    assert shown(app) == ["job-01", "job-00"]
    assert app.button(key=keys.JOBS_NEXT).disabled
    app.button(key=keys.JOBS_PREVIOUS).click().run()
    assert shown(app)[0] == "job-11"


def test_skipped_runs_are_hidden_unless_asked_for(open_page, tmp_path):
    tag = unique_tag()
    make_job(tmp_path, Status.COMPLETED, name="ran", tags=[tag], create_time=1_000)
    make_job(tmp_path, Status.SKIPPED, name="skipped", tags=[tag], create_time=2_000)
    app = tagged(open_page, tag, **{keys.JOBS_PAGE_SIZE: 10})
    assert shown(app) == ["ran"]
    app.checkbox(key=keys.JOBS_SHOW_SKIPPED).check().run()
    assert shown(app) == ["skipped", "ran"]


def test_stop_applies_to_exactly_the_two_selected_jobs(open_page, tmp_path):
    tag = unique_tag()
    jobs = [make_job(tmp_path, Status.QUEUED, name=f"q{i}", tags=[tag], create_time=1_000 + i) for i in range(3)]
    app = tagged(open_page, tag)
    assert shown(app) == ["q2", "q1", "q0"]
    assert app.button(key=keys.JOBS_STOP).disabled  # nothing selected yet
    select(app, 0, 2)
    app.button(key=keys.JOBS_STOP).click().run()
    assert not app.exception, app.exception
    assert "Stopped 2 job(s)." in app.success[0].value
    assert status_of(jobs[2].job_id) in {Status.STOPPING, Status.STOPPED}
    assert status_of(jobs[0].job_id) in {Status.STOPPING, Status.STOPPED}
    assert status_of(jobs[1].job_id) == Status.QUEUED
    assert list(app.dataframe[0].value["status"]) == ["STOPPED", "QUEUED", "STOPPED"]


def test_delete_removes_exactly_the_selected_jobs_once_confirmed(open_page, tmp_path):
    from shiftwork.store import jobs as store

    tag = unique_tag()
    jobs = [make_job(tmp_path, Status.COMPLETED, name=f"d{i}", tags=[tag], create_time=1_000 + i) for i in range(3)]
    app = select(tagged(open_page, tag), 1, 2)  # d1 and d0
    app.button(key=keys.JOBS_DELETE).click().run()
    assert "Delete 2 job(s)" in app.warning[0].value
    assert store.get(jobs[0].job_id)  # not before the confirmation
    app.button(key=keys.JOBS_DELETE_CONFIRM).click().run()
    for gone in jobs[:2]:
        with pytest.raises(NotFound):
            store.get(gone.job_id)
    assert store.get(jobs[2].job_id).status == Status.COMPLETED
    assert shown(app) == ["d2"]


def test_download_zips_the_files_of_the_selected_jobs(open_page, tmp_path):
    from shiftwork.store import files

    tag = unique_tag()
    jobs = [make_job(tmp_path, Status.COMPLETED, name=f"f{i}", tags=[tag], create_time=1_000 + i) for i in range(3)]
    for job in jobs:
        result = tmp_path / f"{job.name}.txt"
        result.write_text(f"result of {job.name}")
        files.upload_file(result, job.output_prefix + result.name)
    app = select(tagged(open_page, tag), 0, 1)  # f2 and f1
    app.button(key=keys.JOBS_DOWNLOAD).click().run()
    assert not app.exception, app.exception
    archive = zipfile.ZipFile(io.BytesIO(app.session_state["jobs_zip"][1]))
    names = sorted(archive.namelist())
    assert names == sorted(f"{j.name}-{j.job_id[:8]}/{j.name}.txt" for j in jobs[1:])
    assert archive.read(names[0]).decode() == "result of f1"


def test_open_a_job_and_the_selected_rows_links_lead_to_its_page(open_page, tmp_path):
    tag = unique_tag()
    first = make_job(tmp_path, Status.COMPLETED, name="first", tags=[tag], create_time=1_000)
    make_job(tmp_path, Status.COMPLETED, name="second", tags=[tag], create_time=2_000)
    app = select(tagged(open_page, tag), 1)
    links = app.get("page_link")
    assert [(link.proto.label, link.proto.query_string) for link in links] == [
        (f"first · {first.job_id[:8]}", f"job={first.job_id}")
    ]
    opener = app.selectbox(key=keys.JOBS_OPEN)
    assert opener.label == "Open a job" and opener.options[1] == f"first · {first.job_id[:8]}"
    opener.set_value(first.job_id)
    app.button(key=keys.JOBS_OPEN_BUTTON).click().run()
    assert not app.exception, app.exception
    assert app.title[0].value == "first"
    assert app.query_params[keys.JOB_PARAM] == first.job_id


def test_over_the_client_skipped_stay_hidden_and_a_stop_reaches_moto(open_remote_page, tmp_path):
    tag = unique_tag()
    running = make_job(tmp_path, Status.IN_PROGRESS, name="busy", tags=[tag], create_time=1_000)
    make_job(tmp_path, Status.SKIPPED, name="skipped", tags=[tag], create_time=2_000)
    done = make_job(tmp_path, Status.COMPLETED, name="done", tags=[tag], create_time=3_000)
    app = tagged(open_remote_page, tag)
    assert not app.exception, app.exception
    assert shown(app) == ["done", "busy"]
    select(app, 1).button(key=keys.JOBS_STOP).click().run()
    assert status_of(running.job_id) == Status.STOPPING
    assert status_of(done.job_id) == Status.COMPLETED


def test_a_selection_is_dropped_when_the_rows_shown_change(open_page, tmp_path):
    import streamlit as st

    tag = unique_tag()
    make_job(tmp_path, Status.QUEUED, name="older", tags=[tag], create_time=1_000)
    app = select(tagged(open_page, tag), 0)
    assert not app.button(key=keys.JOBS_STOP).disabled
    make_job(tmp_path, Status.QUEUED, name="newer", tags=[tag], create_time=2_000)  # row 0 is now another job
    st.cache_data.clear()  # as the read cache's TTL passing would
    app.run()
    assert shown(app) == ["newer", "older"]
    assert app.button(key=keys.JOBS_STOP).disabled  # nothing selected: a stop never hits the job that moved in


def test_over_the_client_a_download_zips_the_selected_jobs_files(open_remote_page, tmp_path):
    from shiftwork.store import files

    tag = unique_tag()
    done = make_job(tmp_path, Status.COMPLETED, name="remote", tags=[tag])
    (tmp_path / "out.csv").write_text("a,b\n1,2\n")
    files.upload_file(tmp_path / "out.csv", done.output_prefix + "out.csv")
    app = select(tagged(open_remote_page, tag), 0)
    app.button(key=keys.JOBS_DOWNLOAD).click().run()
    archive = zipfile.ZipFile(io.BytesIO(app.session_state["jobs_zip"][1]))
    assert archive.read(f"remote-{done.job_id[:8]}/out.csv").decode() == "a,b\n1,2\n"


def test_the_definition_filter_lists_by_name_and_keeps_its_jobs(open_page, tmp_path):
    from shiftwork.api.service import Service
    from shiftwork.models import CreateJobDefinition
    from tests.helpers import write_notebook

    tag = unique_tag()
    notebook = write_notebook(tmp_path / "nightly.ipynb", "x = 1", "print(x)")
    definition = Service().definitions.create(
        CreateJobDefinition(input_uri=str(notebook), name=f"nightly-{tag}", schedule="0 3 * * *")
    )
    make_job(tmp_path, Status.COMPLETED, name="of-it", tags=[tag], job_definition_id=definition.job_definition_id)
    make_job(tmp_path, Status.COMPLETED, name="one-off", tags=[tag])
    app = tagged(open_page, tag)
    assert sorted(shown(app)) == ["of-it", "one-off"]
    assert f"nightly-{tag}" in app.dataframe[0].value["definition"].tolist()  # its name, not its id
    app.selectbox(key=keys.JOBS_DEFINITION).set_value(definition.job_definition_id).run()
    assert shown(app) == ["of-it"]
