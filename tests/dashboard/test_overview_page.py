"""The overview over a window: its charts' data agree with the jobs made here; the next 24 hours' fires agree with
the schedule's preview."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st

from dashboard import keys
from shiftwork.api.service import Service
from shiftwork.models import CreateJobDefinition, Status
from shiftwork.models.resources import NOTEBOOK_RUNNER, STACK_ARCH, estimate_cost
from tests.dashboard import runs_workflow
from tests.dashboard.charts import chart_frames, chart_specs
from tests.functional import conftest as functional_fixtures
from tests.helpers import write_notebook

diamond = runs_workflow.diamond
make_job = functional_fixtures.make_job
DAYS_AGO = 23  # a day no other test starts a job on: its bar is this module's jobs alone
MADE = [(Status.COMPLETED, 120), (Status.COMPLETED, 30), (Status.FAILED, 10), (Status.STOPPED, 5)]


@pytest.fixture(scope="module")
def old_jobs(stack: object, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, datetime]:
    """Notebook jobs of a definition id of their own, started DAYS_AGO days ago at noon (UTC)."""
    make = make_job.__wrapped__(stack, tmp_path_factory.mktemp("old-jobs"))
    definition = f"dash-old-{uuid.uuid4().hex[:8]}"
    day = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=DAYS_AGO)
    start = int(day.timestamp() * 1000)
    for status, seconds in MADE:
        make(status, job_definition_id=definition, start_time=start, end_time=start + seconds * 1000)
    return definition, day


@pytest.fixture(scope="module")
def deployed_run(diamond) -> object:
    """A run of the diamond deployed as a definition, ended (it fails: broken breaks)."""
    service = Service()
    own = f"dash-ov-{uuid.uuid4().hex[:8]}"  # an id of its own: the diamond's name is other modules' id too
    definition = diamond.deploy(using=service, name=own, job_definition_id=own)
    run = service.definitions.run(definition.job_definition_id)
    yield definition, service.wait_job(run.job_id, timeout=120)
    with contextlib.suppress(Exception):
        service.definitions.delete(definition.job_definition_id)


def frame_with(app, column):
    (frame,) = [frame for frame in chart_frames(app) if column in frame.columns]
    return frame


def test_the_30_days_charts_count_the_jobs_made_by_status(open_page, old_jobs):
    definition, day = old_jobs
    app = open_page("views/overview.py")
    app.selectbox(key=keys.OVERVIEW_WINDOW).select("30 days").run()
    assert not app.exception, app.exception
    per_day = frame_with(app, "day")
    bars = per_day[per_day.day.astype(str) == day.date().isoformat()]
    assert dict(zip(bars.status, bars.jobs, strict=True)) == {"COMPLETED": 2, "FAILED": 1, "STOPPED": 1}
    rates = frame_with(app, "failure_rate").set_index("definition").loc[definition]
    assert (rates.ended, rates.failed, rates.failure_rate) == (3, 1, round(1 / 3, 4))  # the stopped one left out
    durations = frame_with(app, "seconds")
    assert sorted(durations[durations.definition == definition].seconds) == [5, 10, 30, 120]
    cost = frame_with(app, "cost_usd").set_index(["definition", "kind"]).loc[(definition, "notebook")]
    expected = sum(estimate_cost(NOTEBOOK_RUNNER, "fargate", s, arch=STACK_ARCH) for _, s in MADE)
    assert cost.jobs == 4 and cost.cost_usd == pytest.approx(expected, abs=1e-6)
    assert '"mark": {"type": "bar"}' in chart_specs(app)[0]  # bars, stacked by status
    app.selectbox(key=keys.OVERVIEW_WINDOW).select("7 days").run()
    shown = {value for frame in chart_frames(app) for value in frame.get("definition", [])}
    assert definition not in shown  # 23 days ago is outside 7 days
    assert day.date().isoformat() not in {str(d) for f in chart_frames(app) for d in f.get("day", [])}


def test_a_workflow_runs_cost_is_its_run_details_total(open_remote_page, deployed_run):
    definition, run = deployed_run
    assert run.status == Status.FAILED
    st.cache_data.clear()  # the reads' ttl passed: the run is read as it ended
    app = open_remote_page("views/overview.py")
    assert not app.exception, app.exception
    costs = frame_with(app, "cost_usd").set_index(["definition", "kind"])
    total = Service().workflows.details(run.job_id).total_cost_usd
    assert total > 0 and costs.loc[(definition.name, "workflow")].cost_usd == pytest.approx(total, abs=1e-6)
    rates = frame_with(app, "failure_rate").set_index("definition").loc[definition.name]
    assert (rates.ended, rates.failed) == (1, 1)


def test_upcoming_fires_agree_with_the_schedules_preview(open_remote_page, tmp_path):
    service = Service()
    notebook = write_notebook(tmp_path / "n.ipynb", "x = 1")
    name, schedule, zone = f"dash-fires-{uuid.uuid4().hex[:8]}", "15 */3 * * *", "Asia/Kolkata"
    made = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), name=name, schedule=schedule, timezone=zone)
    )
    try:
        st.cache_data.clear()  # the reads' ttl passed: the new definition is read
        now = datetime.now(UTC)
        fires = service.preview_schedule(schedule, zone, count=10).fires
        app = open_remote_page("views/overview.py")
        assert not app.exception, app.exception
        table = app.dataframe[-1].value
        mine = table[table.definition == name]
        print(mine.to_dict("records"))
        expected = [fire for fire in fires if fire < now + timedelta(hours=24)]
        assert len(expected) == 8  # every 3 hours
        assert list(mine.utc) == [fire.astimezone(UTC) for fire in expected]
        assert list(mine.local_time) == [fire.strftime("%Y-%m-%d %H:%M IST") for fire in expected]
    finally:
        service.definitions.delete(made.job_definition_id)


def test_it_says_when_it_stopped_at_its_cap(open_page, old_jobs, monkeypatch):
    monkeypatch.setattr("dashboard.helpers.overview.MAX_JOBS", 2)  # the page reads the cap at each render
    st.cache_data.clear()
    app = open_page("views/overview.py")
    app.selectbox(key=keys.OVERVIEW_WINDOW).select("30 days").run()
    assert "Stopped reading at 2 jobs" in app.warning[0].value
    assert frame_with(app, "day").jobs.sum() == 2
