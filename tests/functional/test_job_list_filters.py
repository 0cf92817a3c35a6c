"""The job list's filters the dashboard pages with (a start-time range, statuses left out) and a job's rerun, over
the REST API's Client on a real socket: the filters are conditions of the Query, so a page is never short."""

from __future__ import annotations

import uuid

import pytest

from shiftwork.errors import InvalidSpec
from shiftwork.models import ListJobsQuery, Status
from tests.functional.conftest import wait_for


@pytest.fixture
def client(api):
    from shiftwork.client import Client

    return Client(api.url, token=api.token)


def _names(page):
    return [job.name for job in page.jobs]


def test_skipped_jobs_are_left_out_by_the_query_and_pages_stay_full(client, make_job):
    tag = f"t{uuid.uuid4().hex[:8]}"
    for index, status in enumerate([Status.COMPLETED, Status.SKIPPED, Status.FAILED, Status.SKIPPED]):
        make_job(status, name=f"job{index}", tags=[tag], create_time=1_000 + index)
    every = client.list_jobs(ListJobsQuery(tags=[tag]))
    assert _names(every) == ["job3", "job2", "job1", "job0"]
    first = client.list_jobs(ListJobsQuery(tags=[tag], exclude_status=[Status.SKIPPED], max_items=1))
    assert _names(first) == ["job2"] and first.next_token
    second = client.list_jobs(
        ListJobsQuery(tags=[tag], exclude_status=[Status.SKIPPED], max_items=1, next_token=first.next_token)
    )
    assert _names(second) == ["job0"]
    both = client.list_jobs(ListJobsQuery(tags=[tag], exclude_status=[Status.SKIPPED, Status.FAILED]))
    assert _names(both) == ["job0"]


def test_a_start_time_range_keeps_the_jobs_started_inside_it(client, make_job):
    tag = f"t{uuid.uuid4().hex[:8]}"
    for started in (1_000, 2_000, 3_000):
        make_job(Status.COMPLETED, name=f"at{started}", tags=[tag], start_time=started)
    make_job(Status.CREATED, name="unstarted", tags=[tag])
    inside = client.list_jobs(ListJobsQuery(tags=[tag], start_time=1_500, start_time_before=3_000))
    assert _names(inside) == ["at2000"]
    before = client.list_jobs(ListJobsQuery(tags=[tag], start_time_before=3_000, sort_by=[{"name": "name"}]))
    assert _names(before) == ["at1000", "at2000"]


def test_bad_range_and_status_values_are_refused_naming_the_field(client):
    with pytest.raises(InvalidSpec, match="start_time_before"):
        client.request("GET", "/jobs", start_time_before="yesterday")
    with pytest.raises(InvalidSpec, match="exclude_status"):
        client.request("GET", "/jobs", exclude_status="SKIPPED,NAPPING")


def test_a_one_off_job_reruns_from_its_input_with_its_settings(client, make_job):
    original = make_job(
        Status.FAILED, name="again", source="print('rerun says', x * 2)", parameters={"x": 21}, tags=["rerun-test"]
    )
    rerun = client.rerun_job(original.job_id)
    assert rerun.job_id != original.job_id
    assert (rerun.name, rerun.parameters, rerun.tags) == ("again", {"x": 21}, ["rerun-test"])
    assert rerun.input_filename == original.input_filename
    done = wait_for(lambda: (job := client.get_job(rerun.job_id)).is_terminal and job, timeout=90)
    assert done.status == Status.COMPLETED, done.status_message
    logs = " ".join(event["message"] for event in client.job_logs(rerun.job_id)[0])
    assert "rerun says 42" in logs


def test_a_workflow_run_is_not_rerun_as_a_job(client, make_job):
    run = make_job(Status.COMPLETED, name="flow", kind="workflow")
    with pytest.raises(InvalidSpec, match="runs rerun"):
        client.rerun_job(run.job_id)
