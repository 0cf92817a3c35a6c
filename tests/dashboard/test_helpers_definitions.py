"""The Definitions pages' pure parts: filters, rows, parameters as NAME=VALUE lines, an edit's changes."""

from __future__ import annotations

from datetime import datetime

import pytest

from dashboard.helpers import definitions as helpers
from shiftwork.errors import InvalidSpec
from shiftwork.models import DescribeJob, DescribeJobDefinition, RunAfterCondition, Status
from shiftwork.schedules.preview import preview_schedule


def definition(**fields) -> DescribeJobDefinition:
    base = {
        "job_definition_id": "d1",
        "name": "daily",
        "version": 2,
        "input_filename": "daily.ipynb",
        "input_prefix": "definitions/d1/v2/input/",
        "schedule": "0 9 * * mon-fri",
        "timezone": "Europe/London",
        "parameters": {"n": 3, "who": "World"},
        "create_time": 1_700_000_000_000,
        "update_time": 1_700_000_000_000,
        "active_since": 1_700_000_000_000,
    }
    return DescribeJobDefinition.model_validate({**base, **fields})


def test_filters_make_one_page_query():
    query = helpers.definitions_query(" pri", "paused", " finance ", "tok")
    assert (query.name, query.paused, query.tags, query.next_token) == ("pri", True, ["finance"], "tok")
    assert helpers.definitions_query("", "active", "", None).paused is False
    assert helpers.definitions_query("", "all", "", None).paused is None


def test_a_row_shows_the_schedule_in_words_and_as_written_and_its_next_fires():
    preview = preview_schedule("0 9 * * mon-fri", "Europe/London", count=5, start="2026-03-27T00:00")
    job = DescribeJob(
        job_id="j",
        name="daily",
        status=Status.FAILED,
        input_filename="daily.ipynb",
        create_time=1,
        update_time=1,
        output_prefix="jobs/j/output/",
    )
    row = helpers.definition_row(definition(active=False), preview, job)
    assert row["when"] == preview.in_words and row["schedule"] == "0 9 * * mon-fri"
    assert row["next fires"] == [helpers.fire_text(f, "Europe/London") for f in preview.fires]
    assert row["next fires"][:2] == ["Fri 2026-03-27 09:00 GMT", "Mon 2026-03-30 09:00 BST"]  # across the DST change
    assert (row["state"], row["version"], row["last run"], row["timezone"]) == ("paused", 2, "FAILED", "Europe/London")
    assert helpers.definition_row(definition(), preview, None)["last run"] == "never ran"


def test_a_run_after_definition_says_after_whom_on_what():
    after = definition(schedule=None, run_after="up-id", run_after_condition=RunAfterCondition.FAILURE)
    assert helpers.when_text(after, None, "prices") == "after prices on failure"
    assert helpers.when_text(definition(schedule=None), None, None) == "on demand only"


@pytest.mark.parametrize(
    "parameters",
    [{"n": 3, "who": "World", "ratio": 0.5, "on": True, "xs": [1, 2], "text_number": "3", "none": None}, {}],
)
def test_parameters_round_trip_through_name_value_lines(parameters):
    assert helpers.read_parameters(helpers.parameters_text(parameters)) == parameters


def test_parameters_are_read_as_the_cli_reads_dash_p():
    assert helpers.read_parameters("n=3\nwho=World\n\nxs=[1, 2]\n") == {"n": 3, "who": "World", "xs": [1, 2]}
    with pytest.raises(InvalidSpec) as refused:
        helpers.read_parameters("3n=1")
    assert refused.value.field == "parameter name"
    with pytest.raises(InvalidSpec):
        helpers.read_parameters("no equals sign")


def test_an_edit_changes_only_what_differs():
    current = definition(output_formats=["ipynb", "html"])
    unchanged = helpers.edit_changes(current, "n=3\nwho=World", "0 9 * * mon-fri", "Europe/London", ["html"])
    assert unchanged.model_dump(exclude_none=True) == {}
    changed = helpers.edit_changes(current, "n=4\nwho=World", "30 7 * * *", "UTC", ["html", "ipynb"])
    assert changed.model_dump(exclude_none=True) == {
        "parameters": {"n": 4, "who": "World"},
        "schedule": "30 7 * * *",
        "timezone": "UTC",
    }


def test_resume_from_now_or_a_wall_time():
    assert helpers.resume_from("now", datetime(2026, 3, 1, 9)) == "now"
    assert helpers.resume_from("from a time", datetime(2026, 3, 1, 9, 30)) == "2026-03-01T09:30:00"


def test_workflow_tasks_and_their_graph():
    spec = {
        "name": "etl",
        "function": "flows:etl",
        "module_file": "flows.py",
        "tasks": [
            {"name": "extract", "function": "flows:extract"},
            {"name": "load", "function": "flows:load", "arguments": {"rows": {"$ref": "extract"}}},
        ],
    }
    tasks = helpers.workflow_tasks(definition(kind="workflow", workflow=spec))
    assert [(t["task"], t["after"]) for t in tasks] == [("extract", []), ("load", ["extract"])]
    assert '"extract" -> "load";' in helpers.workflow_dot(tasks)
    assert helpers.workflow_tasks(definition()) == []
