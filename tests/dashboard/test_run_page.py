"""The run page on a real run: its DAG coloured by task state, its Gantt, a task's result, logs and resources,
reruns and a stop that change the run in moto."""

from __future__ import annotations

import streamlit as st

from dashboard import keys
from dashboard.helpers.runs import STATE_COLOURS
from shiftwork.api.service import Service
from shiftwork.models import Status
from shiftwork.models.workflow import TaskStatus
from tests.dashboard import runs_workflow
from tests.dashboard.charts import chart_frames, dot_edges, dot_nodes, dot_text
from tests.functional import conftest as functional_fixtures
from tests.functional.conftest import wait_for
from tests.workflows import conftest as workflow_fixtures

diamond, diamond_run = runs_workflow.diamond, runs_workflow.diamond_run  # the module's run
write_workflow = workflow_fixtures.write_workflow
make_job = functional_fixtures.make_job

EXPECTED = {"broken": "FAILED", "report": "UPSTREAM_FAILED"}  # every other task of the diamond completes


def test_the_title_is_the_runs_name_and_the_dag_colours_every_task_by_its_state(open_page, diamond_run):
    app = open_page("views/run.py", run=diamond_run.job_id)
    assert not app.exception, app.exception
    assert app.title[0].value == "dash-diamond"
    tasks = Service().workflows.tasks(diamond_run.job_id)
    dot = dot_text(app)
    nodes = dot_nodes(dot)
    drawn = [task for task in tasks if task.map_count is None]  # a mapped task is the cluster of its instances
    assert set(nodes) == {task.task_id for task in drawn}
    for task in drawn:
        assert task.status == EXPECTED.get(task.name, "COMPLETED"), task.task_id
        assert nodes[task.task_id]["fillcolor"] == STATE_COLOURS[task.status], task.task_id
        assert task.status.value in nodes[task.task_id]["label"]
    assert 'subgraph "cluster_square"' in dot and "square (map over 3): COMPLETED" in dot
    edges = dot_edges(dot)
    assert {("numbers", f"square[{i}]") for i in range(3)} | {(f"square[{i}]", "total") for i in range(3)} <= edges
    assert {("total", "report"), ("pair", "report"), ("broken", "report"), ("numbers", "broken")} <= edges
    legend = app.get("html")[0].proto.body
    assert all(state.value in legend and colour in legend for state, colour in STATE_COLOURS.items())


def test_the_gantt_draws_provisioning_apart_from_running(open_page, diamond_run):
    app = open_page("views/run.py", run=diamond_run.job_id)
    (bars,) = chart_frames(app)
    tasks = {t.task_id: t for t in Service().workflows.tasks(diamond_run.job_id)}
    started = {task_id for task_id, t in tasks.items() if t.start_time is not None and t.map_count is None}
    running = bars[bars.phase == "running"]
    provisioning = bars[bars.phase == "provisioning"]
    assert set(running.task) == started  # report never started: no bar; square's own span gives way to instances
    assert set(provisioning.task) == started  # each waited for its container or worker before it started
    for row in running.itertuples():
        task = tasks[row.task]
        assert row.state == task.status.value
        assert int(row.start.timestamp() * 1000) == task.start_time
        assert int(row.end.timestamp() * 1000) == task.end_time
    for row in provisioning.itertuples():
        assert int(row.end.timestamp() * 1000) == tasks[row.task].start_time
        assert int(row.start.timestamp() * 1000) == tasks[row.task].submit_time


def test_a_tasks_json_result_logs_resources_and_cost_are_shown(open_page, diamond_run):
    app = open_page("views/run.py", run=diamond_run.job_id)
    app.selectbox(key=keys.RUN_TASK).select("total").run()
    assert [element.value for element in app.json] == ['{"total": 5}']  # 0 + 1 + 4
    app.selectbox(key=keys.RUN_TASK).select("numbers").run()
    assert "making 3 numbers" in app.code[-1].value  # its log
    (sizes,) = [text.value for text in app.markdown if text.value.startswith("**Requested**")]
    assert "**Requested** 0.3 vCPU, 700 MB" in sizes
    assert "**Launched with** 0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB" in sizes  # rounded up to a Fargate size
    cost = Service().workflows.details(diamond_run.job_id).tasks[0].cost_usd
    assert cost and f"**Estimated cost** ${cost:.6f}" in sizes


def test_a_pickled_result_is_offered_for_download(open_remote_page, diamond_run):
    app = open_remote_page("views/run.py", run=diamond_run.job_id)
    app.selectbox(key=keys.RUN_TASK).select("pair").run()
    assert not app.json  # a tuple is pickled: not shown as JSON
    (link,) = app.get("link_button")
    assert link.proto.label == "Download result.pickle" and "/tasks/pair/result.pickle" in link.proto.url
    app.selectbox(key=keys.RUN_TASK).select("broken").run()
    assert "broken on purpose" in app.error[-1].value


def _ended(run_id: str) -> Status:
    return wait_for(lambda: (run := Service().get_job(run_id)).is_terminal and run.status, timeout=120)


def test_a_partial_rerun_from_the_page_reuses_the_completed_tasks(open_remote_page, diamond_run):
    app = open_remote_page("views/run.py", run=diamond_run.job_id)
    app.button(key=keys.RUN_RERUN_PARTIAL).click().run()
    new_id = app.query_params[keys.RUN_PARAM]
    assert new_id != diamond_run.job_id and app.title[0].value == "dash-diamond"  # the page opened the new run
    rerun = Service().workflows.get_run(new_id)
    assert (rerun.original_run_id, rerun.partial_rerun) == (diamond_run.job_id, True)
    assert _ended(new_id) == Status.FAILED  # broken breaks again
    reused = {t.task_id: t.reused_from for t in Service().workflows.tasks(new_id)}
    assert reused["numbers"] == reused["total"] == reused["pair"] == diamond_run.job_id
    assert reused["broken"] is None and reused["report"] is None  # what did not complete runs again
    st.cache_data.clear()  # the reads' ttl passed: the page first saw the rerun before its tasks existed
    app = open_remote_page("views/run.py", run=new_id)
    links = [link.proto.label for link in app.get("page_link")]
    assert f"partial rerun of {diamond_run.job_id}" in links
    assert "(reused)" in dot_nodes(dot_text(app))["numbers"]["label"]
    (bars,) = chart_frames(app)
    assert set(bars.task) == {"broken"}  # the reused tasks ran in the original run: only broken ran in this one


def test_a_full_rerun_from_the_page_runs_every_task_again(open_page, diamond_run):
    app = open_page("views/run.py", run=diamond_run.job_id)
    app.button(key=keys.RUN_RERUN_FULL).click().run()
    new_id = app.query_params[keys.RUN_PARAM]
    rerun = Service().workflows.get_run(new_id)
    assert (rerun.original_run_id, rerun.partial_rerun) == (diamond_run.job_id, False)
    assert _ended(new_id) == Status.FAILED
    assert all(task.reused_from is None for task in Service().workflows.tasks(new_id))


SLEEPER = """
import time
from shiftwork import task, workflow

@task
def nap() -> None:
    time.sleep(120)

@workflow(name="dash-sleeper")
def sleeper():
    nap()
"""


def test_stop_while_the_run_goes_on(open_page, write_workflow):
    service = Service()
    run = write_workflow("dash_sleeper", SLEEPER, "sleeper").run(using=service)
    wait_for(lambda: [t.status for t in service.workflows.tasks(run.run_id)] == [TaskStatus.IN_PROGRESS], timeout=60)
    app = open_page("views/run.py", run=run.run_id)
    assert app.button(key=keys.RUN_RERUN_PARTIAL).disabled  # a rerun waits for the run's end
    app.button(key=keys.RUN_STOP).click().run()
    assert not app.exception, app.exception
    assert "STOPP" in app.caption[0].value  # read again after the stop: STOPPING, or already STOPPED
    assert _ended(run.run_id) == Status.STOPPED
    assert service.workflows.task(run.run_id, "nap").status == TaskStatus.STOPPED
    st.cache_data.clear()  # the reads' ttl, passed
    assert open_page("views/run.py", run=run.run_id).button(key=keys.RUN_STOP).disabled


def test_an_unknown_run_is_named_in_an_error(open_page):
    app = open_page("views/run.py", run="no-such-run")
    assert not app.exception and "no-such-run" in app.error[0].value


def test_a_notebook_job_is_not_shown_as_a_run(open_remote_page, make_job):
    job = make_job(Status.COMPLETED)
    app = open_remote_page("views/run.py", run=job.job_id)
    assert not app.exception, app.exception
    assert "is a notebook job, not a workflow run" in app.error[0].value


def test_without_a_run_it_points_to_the_list(open_page):
    app = open_page("views/run.py")
    assert not app.exception and "Open a run" in app.info[0].value
