"""The Definitions page: its table says when each definition fires next and how it last ran; pause, resume, run
now, edit and delete change the definition in moto (read back through the Service)."""

from __future__ import annotations

import contextlib
import uuid

import pytest

from dashboard.helpers.definitions import fire_text, fires_text
from dashboard.views import definitions as page
from shiftwork.errors import NotFound
from shiftwork.models import CreateJobDefinition, ListJobsQuery
from tests.dashboard.elements import under
from tests.helpers import write_notebook

PAGE = "views/definitions.py"


@pytest.fixture
def service(stack):
    from shiftwork.api.service import Service

    return Service()


@pytest.fixture
def made(service, tmp_path):
    """A definition of its own (a unique name the page is filtered by), deleted afterwards if a test did not."""
    name = f"defs-page-{uuid.uuid4().hex[:8]}"
    notebook = write_notebook(tmp_path / "daily.ipynb", "who = 'nobody'\nn = 1", "print(who, n)")
    definition = service.definitions.create(
        CreateJobDefinition(
            input_uri=str(notebook),
            name=name,
            schedule="0 9 * * mon-fri",
            timezone="Europe/London",
            parameters={"n": 2},
        )
    )
    yield definition
    with contextlib.suppress(NotFound):
        service.definitions.delete(definition.job_definition_id)


def opened(open_page, definition):
    """The page, filtered to this definition's name."""
    app = open_page(PAGE)
    return app.text_input(key=page.NAME).input(definition.name).run()


def row_of(app):
    frame = app.dataframe[0].value
    assert len(frame) == 1, frame
    return frame.iloc[0]


def fires_list(preview):
    return [fire_text(f, preview.timezone) for f in preview.fires]


def test_the_table_shows_when_it_fires_next_and_how_it_last_ran(open_page, service, made):
    app = opened(open_page, made)
    assert not app.exception, app.exception
    row = row_of(app)
    preview = service.preview_schedule("0 9 * * mon-fri", "Europe/London", count=5)
    assert row["when"] == preview.in_words and "09:00" in row["when"]
    assert row["schedule"] == "0 9 * * mon-fri" and row["timezone"] == "Europe/London"
    assert list(row["next fires"]) == fires_list(preview)
    assert (row["state"], row["version"], row["last run"]) == ("active", 1, "never ran")


def test_filters_narrow_the_table(open_page, made):
    app = opened(open_page, made)
    app = app.selectbox(key=page.STATE).select("paused").run()
    assert not app.dataframe and "No definitions match" in app.info[0].value


def test_pause_then_resume_change_active_in_the_store(open_page, service, made):
    app = opened(open_page, made)
    app = app.button(key=page.PAUSE).click().run()
    assert not app.exception, app.exception
    assert service.definitions.get(made.job_definition_id).active is False
    assert row_of(app)["state"] == "paused" and "Paused" in app.success[0].value

    app = app.button(key=page.RESUME).click().run()
    assert service.definitions.get(made.job_definition_id).active is True
    assert row_of(app)["state"] == "active"


def test_run_now_makes_a_job_of_the_definition_with_the_given_parameters(open_page, service, made):
    app = opened(open_page, made)
    assert app.text_area(key=page.RUN_PARAMETERS).value == "n=2"  # the definition's own
    app = app.text_area(key=page.RUN_PARAMETERS).input('who="dashboard"\nn=5').run()
    app = app.button(key=page.RUN).click().run()
    assert not app.exception, app.exception
    jobs = service.list_jobs(ListJobsQuery(job_definition_id=made.job_definition_id)).jobs
    assert [job.parameters for job in jobs] == [{"n": 5, "who": "dashboard"}]
    assert jobs[0].job_id in app.success[0].value


def test_bad_parameters_are_shown_under_the_field_and_run_nothing(open_page, service, made):
    app = opened(open_page, made)
    app = app.text_area(key=page.RUN_PARAMETERS).input("2n=5").run()
    app = app.button(key=page.RUN).click().run()
    shown = under(app, page.RUN_PARAMETERS)
    assert shown.type == "error" and "parameter name '2n'" in shown.value
    assert not service.list_jobs(ListJobsQuery(job_definition_id=made.job_definition_id)).jobs


def test_edit_previews_the_new_schedule_as_typed_and_saves_it(open_page, service, made):
    app = opened(open_page, made)
    app = app.text_input(key=page.EDIT_SCHEDULE).input("30 7 * * *").run()
    preview = service.preview_schedule("30 7 * * *", "Europe/London", count=5)
    shown = under(app, page.EDIT_SCHEDULE)
    assert shown.type == "caption" and shown.value.endswith(fires_text(preview)) and preview.in_words in shown.value
    app = app.button(key=page.EDIT_SAVE).click().run()
    assert not app.exception, app.exception
    stored = service.definitions.get(made.job_definition_id)
    assert (stored.schedule, stored.version) == ("30 7 * * *", 2)
    row = row_of(app)
    assert list(row["next fires"]) == fires_list(preview) and row["version"] == 2


def test_a_bad_schedule_is_shown_under_the_schedule_field_and_changes_nothing(open_page, service, made):
    app = opened(open_page, made)
    app = app.text_input(key=page.EDIT_SCHEDULE).input("61 25 * * *").run()
    app = app.button(key=page.EDIT_SAVE).click().run()
    shown = under(app, page.EDIT_SCHEDULE)
    assert shown.type == "error" and "'61 25 * * *': minute field '61': is out of range 0-59" in shown.value
    assert service.definitions.get(made.job_definition_id).version == 1


def test_delete_asks_for_a_confirmation_then_removes_it(open_page, service, made):
    app = opened(open_page, made)
    assert app.button(key=page.DELETE).disabled
    app = app.checkbox(key=page.DELETE_CONFIRM).check().run()
    app = app.button(key=page.DELETE).click().run()
    assert not app.exception, app.exception
    with pytest.raises(NotFound):
        service.definitions.get(made.job_definition_id)
    assert "Deleted" in app.success[0].value and not app.dataframe


def test_over_the_api_a_pause_changes_active(open_remote_page, service, made):
    app = opened(open_remote_page, made)
    preview = service.preview_schedule("0 9 * * mon-fri", "Europe/London", count=5)
    assert list(row_of(app)["next fires"]) == fires_list(preview)  # in the zone's names, read back from JSON
    app = app.button(key=page.PAUSE).click().run()
    assert not app.exception, app.exception
    assert service.definitions.get(made.job_definition_id).active is False


def test_resume_from_a_past_time_owes_the_fires_since_then(open_page, service, made):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    service.definitions.pause(made.job_definition_id)
    since = (datetime.now(ZoneInfo("Europe/London")) - timedelta(hours=2)).replace(second=0, microsecond=0)
    app = opened(open_page, made)
    app = app.radio(key=page.RESUME_MODE).set_value(page.RESUME_FROM).run()
    app.get("date_time_input")[0].set_value(since.replace(tzinfo=None))  # a wall time in the definition's zone
    app = app.button(key=page.RESUME).click().run()
    assert not app.exception, app.exception
    stored = service.definitions.get(made.job_definition_id)
    assert stored.active is True and stored.active_since == int(since.timestamp() * 1000)


def test_the_table_pages_through_the_api_with_next_token(open_page, stack):
    from dashboard.helpers.definitions import PAGE_SIZE
    from shiftwork.models import DescribeJobDefinition
    from shiftwork.store import definitions

    prefix = f"defs-paged-{uuid.uuid4().hex[:6]}"
    made = [  # records written straight to the store: the page only lists them
        definitions.put(
            DescribeJobDefinition(
                job_definition_id=f"{prefix}-{index:02d}",
                name=f"{prefix}-{index:02d}",
                version=1,
                input_filename="paged.ipynb",
                input_prefix=f"definitions/{prefix}-{index:02d}/v1/input/",
                create_time=1_700_000_000_000 + index,
                update_time=1_700_000_000_000 + index,
                active_since=1_700_000_000_000,
            )
        )
        for index in range(PAGE_SIZE + 1)
    ]
    try:
        app = open_page(PAGE)
        app = app.text_input(key=page.NAME).input(prefix).run()
        first = list(app.dataframe[0].value["name"])
        assert first == [d.name for d in reversed(made)][:PAGE_SIZE]  # newest first
        assert app.button(key=page.PREVIOUS).disabled
        app = app.button(key=page.NEXT).click().run()
        assert list(app.dataframe[0].value["name"]) == [made[0].name] and app.button(key=page.NEXT).disabled
        app = app.button(key=page.PREVIOUS).click().run()
        assert list(app.dataframe[0].value["name"]) == first
    finally:
        for definition in made:
            definitions.delete(definition.job_definition_id)
