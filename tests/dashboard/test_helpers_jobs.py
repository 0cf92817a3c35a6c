"""The Jobs and Job pages' pure computation: filters -> ListJobsQuery, rows, selections, bulk outcomes, zips."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import nbformat
import pytest

from dashboard.helpers import jobs as helpers
from dashboard.helpers.notebook_html import notebook_to_html
from shiftwork.errors import Conflict, InvalidSpec
from shiftwork.models import DescribeJob, JobFile, SortDirection, Status


def job(name="report", status=Status.COMPLETED, **fields):
    values = {
        "job_id": f"{name:0<8}-0000-4000-8000-000000000000",
        "name": name,
        "status": status,
        "input_filename": f"{name}.ipynb",
        "create_time": 1_700_000_000_000,
        "update_time": 1_700_000_000_000,
        "output_prefix": f"jobs/{name}/output/",
    }
    return DescribeJob(**{**values, **fields})


def test_the_default_filters_ask_for_one_page_newest_first_without_skipped():
    query = helpers.to_query(helpers.JobFilters())
    assert query.exclude_status == [Status.SKIPPED]
    assert [(f.name, f.direction) for f in query.sort_by] == [("create_time", SortDirection.DESC)]
    assert (query.max_items, query.next_token, query.name, query.tags) == (helpers.PAGE_SIZE, None, None, [])


def test_every_filter_becomes_its_query_field():
    filters = helpers.JobFilters(
        status=Status.FAILED,
        definition_id="def-1",
        name_prefix=" sales ",
        tag=" nightly ",
        started_from=date(2026, 3, 1),
        started_to=date(2026, 3, 2),
        show_skipped=True,
        sort_field="name",
        descending=False,
        page_size=10,
    )
    query = helpers.to_query(filters, "token")
    assert (query.status, query.job_definition_id, query.name, query.tags) == (
        Status.FAILED,
        "def-1",
        "sales",
        ["nightly"],
    )
    assert query.start_time == helpers.day_start_ms(date(2026, 3, 1))
    assert query.start_time_before == helpers.day_start_ms(date(2026, 3, 3))  # the whole last day
    assert query.exclude_status == [] and query.next_token == "token" and query.max_items == 10
    assert [(f.name, f.direction) for f in query.sort_by] == [("name", SortDirection.ASC)]


def test_asking_for_skipped_jobs_shows_them_even_unticked():
    assert helpers.to_query(helpers.JobFilters(status=Status.SKIPPED)).exclude_status == []


def test_a_range_ending_before_it_starts_is_refused_naming_the_field():
    with pytest.raises(InvalidSpec) as raised:
        helpers.to_query(helpers.JobFilters(started_from=date(2026, 3, 5), started_to=date(2026, 3, 4)))
    assert raised.value.field == "started to" and "2026-03-05" in str(raised.value)


def test_rows_have_the_columns_with_definition_names_durations_and_files():
    done = job(
        "done",
        start_time=1_000,
        end_time=4_500,
        job_definition_id="def-1",
        tags=["a", "b"],
        job_files=[JobFile(display_name="Notebook", file_format="ipynb", file_path="jobs/x/output/done.ipynb")],
    )
    running = job("running", Status.IN_PROGRESS, start_time=1_000, job_definition_id="def-unknown")
    queued = job("queued", Status.QUEUED, output_formats=["ipynb", "html"])
    rows = helpers.job_rows([done, running, queued], {"def-1": "nightly sales"}, now_ms=11_000)
    assert list(rows[0]) == helpers.COLUMNS
    assert [r["definition"] for r in rows] == ["nightly sales", "def-unknown", None]
    assert [r["duration (s)"] for r in rows] == [3.5, 10.0, None]
    assert [r["output files"] for r in rows] == ["done.ipynb", "", "ipynb, html"]
    assert rows[0]["tags"] == "a, b" and rows[0]["created"].year == 2023


def test_selection_maps_row_positions_to_jobs_ignoring_stale_ones():
    jobs = [job("a"), job("b"), job("c")]
    assert [j.name for j in helpers.selected(jobs, [2, 0, 2, 7])] == ["a", "c"]


def test_a_bulk_action_notes_each_refusal_and_goes_on():
    def stop(job_id):
        if job_id.startswith("b"):
            raise Conflict(job_id, "COMPLETED", "QUEUED|IN_PROGRESS")

    outcome = helpers.apply_each(stop, [job("a"), job("b"), job("c")])
    assert outcome.done == [job("a").job_id, job("c").job_id]
    assert len(outcome.refused) == 1 and outcome.refused[0].startswith("b · b0000000")


def test_a_download_zip_keeps_each_jobs_folder(tmp_path):
    (tmp_path / "one-1234").mkdir()
    (tmp_path / "one-1234" / "out.txt").write_text("1")
    (tmp_path / "two" / "nested").mkdir(parents=True)
    (tmp_path / "two" / "nested" / "b.csv").write_text("2")
    archive = zipfile.ZipFile(io.BytesIO(helpers.zip_folder(tmp_path)))
    assert sorted(archive.namelist()) == ["one-1234/out.txt", "two/nested/b.csv"]
    assert helpers.download_folder(job("a b/c")) == "a_b_c-a b/c000"


def test_field_rows_cover_every_field_as_text():
    rows = helpers.field_rows(job("x", start_time=1_700_000_000_000, tags=["t"]))
    assert [r["field"] for r in rows] == list(DescribeJob.model_fields)
    values = {r["field"]: r["value"] for r in rows}
    assert values["start_time"] == "2023-11-14 22:13:20 UTC"
    assert values["tags"] == '["t"]' and values["end_time"] == "—" and values["status"] == "COMPLETED"


def test_the_inline_view_prefers_the_html_output():
    notebook = {"path": "a.ipynb", "file_format": "ipynb", "url": "u1"}
    html = {"path": "a.html", "file_format": "html", "url": "u2"}
    side = {"path": "data.csv", "file_format": "file", "url": "u3"}
    assert helpers.rendered_source([notebook, html, side]) == html
    assert helpers.rendered_source([side, notebook]) == notebook
    assert helpers.rendered_source([side]) is None


def test_parameters_and_logs_as_shown():
    assert helpers.parameter_rows({"n": 3, "name": "x"}) == [
        {"name": "n", "value": "3", "type": "int"},
        {"name": "name", "value": '"x"', "type": "str"},
    ]
    assert helpers.log_text([{"message": "one\n"}, {"message": "two"}]) == "one\ntwo"


def test_a_notebook_renders_to_html_with_its_outputs():
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('hi')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="printed by the cell\n")]
    notebook.cells = [cell]
    html = notebook_to_html(json.dumps(notebook))
    assert "printed by the cell" in html and "<html" in html


def test_the_table_refreshes_only_while_a_shown_job_can_change():
    assert helpers.any_live([job("a"), job("b", Status.IN_PROGRESS)])
    assert helpers.any_live([job("a", Status.STOPPING)])
    assert not helpers.any_live([job("a"), job("b", Status.SKIPPED), job("c", Status.FAILED)])
    assert not helpers.any_live([])


def test_a_log_is_followed_while_the_job_runs_and_briefly_after_it_ended():
    from dashboard.helpers.jobs import still_logging

    running = DescribeJob(
        job_id="j",
        name="n",
        status=Status.IN_PROGRESS,
        input_filename="a.ipynb",
        create_time=0,
        update_time=0,
        output_prefix="jobs/j/output/",
        start_time=1_000,
    )
    ended = running.model_copy(update={"status": Status.COMPLETED, "end_time": 5_000})
    assert still_logging(running, 10**12, 10)
    assert still_logging(ended, 14_999, 10) and not still_logging(ended, 15_000, 10)
    assert not still_logging(ended.model_copy(update={"end_time": None}), 5_000, 10)


def test_a_notebook_page_is_framed_whole_in_a_sandbox_of_its_own():
    from html import unescape

    from dashboard.helpers.notebook_html import sandboxed

    page = '<html><body><p title="a &amp; b">It\'s "quoted" <b>bold</b></p><script>parent.x = 1</script></body></html>'
    framed = sandboxed(page, 500)
    assert framed.count("<iframe") == 1 and framed.count("</iframe>") == 1  # nothing of the page escapes the frame
    srcdoc = framed.split('srcdoc="', 1)[1].rsplit('"></iframe>', 1)[0]
    assert '"' not in srcdoc and unescape(srcdoc) == page
    assert 'sandbox="allow-scripts allow-popups"' in framed and "allow-same-origin" not in framed
