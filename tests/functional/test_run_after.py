"""Run after another definition's job: what each ending fires, exactly once, under the dispatcher's policies."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from shiftwork import aws
from shiftwork.dispatch.aftermath import after_job_ended
from shiftwork.dispatch.fire import new_job
from shiftwork.dispatch.run_after import downstream_job_id
from shiftwork.errors import Conflict, InvalidSpec, NotFound
from shiftwork.launchers import FargateLauncher, default_launcher, use_launcher
from shiftwork.models import CreateJobDefinition, ListJobsQuery, Status, UpdateJobDefinition
from shiftwork.store import definitions, jobs, slots
from tests.functional.conftest import wait_for
from tests.functional.test_api import call
from tests.helpers import write_notebook

THREADS = 8
ENDINGS = (Status.COMPLETED, Status.FAILED, Status.STOPPED, Status.SKIPPED)


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "step.ipynb", "who = 'nobody'", "print('step for', who)")


@pytest.fixture
def define(service, notebook):
    """Definitions without a schedule (deleted afterwards, downstream ones first)."""
    made = []

    def make(**fields):
        definition = service.definitions.create(CreateJobDefinition(input_uri=str(notebook), **fields))
        made.append(definition.job_definition_id)
        return definition

    yield make
    for definition_id in reversed(made):
        with contextlib.suppress(NotFound):
            service.definitions.delete(definition_id)


@pytest.fixture
def held():
    """Jobs launched onto moto's ECS, which stores tasks and never runs them: a launched job stays QUEUED."""
    previous = default_launcher()
    use_launcher(FargateLauncher())
    yield
    use_launcher(previous)


def _ended(definition, status, **fields):
    """A job of `definition` that ended with `status`, as the runner or the completion handler leaves it."""
    job = new_job(definition, str(uuid.uuid4()), None, status=status, end_time=jobs.now_ms(), **fields)
    return jobs.put_new(job)


def _jobs_of(definition):
    return jobs.list_jobs(ListJobsQuery(job_definition_id=definition.job_definition_id, max_items=1000)).jobs


def _launched(job_id):
    """The job once the dispatcher has launched it (its task recorded)."""
    return wait_for(lambda: (job := jobs.get(job_id)).task_arn and job, timeout=30)


@pytest.mark.parametrize(
    ("condition", "fired_by"),
    [
        ("on success", {Status.COMPLETED}),
        ("failure", {Status.FAILED}),  # the short spelling is accepted, and stored in full
        ("On Completion", {Status.COMPLETED, Status.FAILED}),
    ],
)
def test_each_condition_fires_on_its_endings_only(define, held, condition, fired_by):
    upstream = define(name="upstream")
    downstream = define(name="downstream", run_after=upstream.job_definition_id, run_after_condition=condition)
    assert downstream.run_after_condition == "on " + condition.lower().removeprefix("on ")
    fired = set()
    for status in ENDINGS:
        ended = _ended(upstream, status)
        after_job_ended(ended)
        with contextlib.suppress(NotFound):
            job = jobs.get(downstream_job_id(downstream.job_definition_id, ended.job_id))
            assert job.triggered_by == ended.job_id
            fired.add(status)
    assert fired == fired_by  # STOPPED and SKIPPED never fire
    assert len(_jobs_of(downstream)) == len(fired_by)


def test_a_failure_fires_only_once_its_retries_are_spent(define, held):
    upstream = define(name="flaky", max_retries=1, retry_backoff_seconds=0)
    downstream = define(run_after=upstream.job_definition_id, run_after_condition="on failure")
    first = _ended(upstream, Status.FAILED)
    retry = after_job_ended(first)
    assert retry.attempt == 2 and _jobs_of(downstream) == []  # a retry follows: this failure is not the last
    _launched(retry.job_id)
    last = jobs.update(retry.job_id, [Status.QUEUED], status=Status.FAILED, end_time=jobs.now_ms())
    after_job_ended(last)
    [job] = _jobs_of(downstream)
    assert job.triggered_by == retry.job_id


def test_a_paused_downstream_fires_nothing(service, define, held):
    upstream = define()
    downstream = define(run_after=upstream.job_definition_id, active=False)
    after_job_ended(_ended(upstream, Status.COMPLETED))
    service.definitions.resume(downstream.job_definition_id)
    assert _jobs_of(downstream) == []  # not owed either: only an ending while it is active fires it
    ended = _ended(upstream, Status.COMPLETED)
    after_job_ended(ended)
    assert [job.triggered_by for job in _jobs_of(downstream)] == [ended.job_id]


def test_the_downstream_job_is_its_own_definitions_with_its_parameters(define, held):
    prices = f"prices-{uuid.uuid4().hex[:8]}"  # a name no other test's definition has (the session shares a stack)
    upstream = define(name=prices, parameters={"who": "prices"})
    downstream = define(name="report", run_after=prices, parameters={"who": "report"}, tags=["daily"])
    assert downstream.run_after == upstream.job_definition_id  # the name resolved to the id when created
    ended = _ended(upstream, Status.COMPLETED, parameters={"who": "override"})
    after_job_ended(ended)
    job = _launched(downstream_job_id(downstream.job_definition_id, ended.job_id))
    assert (job.name, job.job_definition_id, job.job_definition_version) == ("report", downstream.job_definition_id, 1)
    assert (job.parameters, job.tags, job.triggered_by) == ({"who": "report"}, ["daily"], ended.job_id)
    assert job.input_prefix == downstream.input_prefix


def test_duplicate_and_concurrent_deliveries_of_an_ending_make_one_job(service, define, held):
    upstream = define()
    downstream = define(run_after=upstream.job_definition_id, max_running_jobs=5)
    ended = _ended(upstream, Status.COMPLETED)
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda _: after_job_ended(jobs.get(ended.job_id)), range(THREADS * 2)))
    [job] = _jobs_of(downstream)
    _launched(job.job_id)
    assert slots.taken(downstream.job_definition_id) == 1
    tasks = aws.client("ecs").list_tasks(cluster=service.settings.cluster, startedBy=job.job_id[:36])["taskArns"]
    assert len(tasks) == 1
    after_job_ended(jobs.get(ended.job_id))  # late, after the job was launched: still the one job
    assert [j.job_id for j in _jobs_of(downstream)] == [job.job_id]


def test_max_running_jobs_skips_a_run_after_job_as_it_skips_a_fire(define, held):
    upstream = define()
    downstream = define(run_after=upstream.job_definition_id, max_running_jobs=1)
    first, second = _ended(upstream, Status.COMPLETED), _ended(upstream, Status.COMPLETED)
    after_job_ended(first)
    after_job_ended(second)
    by_trigger = {job.triggered_by: job for job in _jobs_of(downstream)}
    assert by_trigger[first.job_id].status in (Status.CREATED, Status.QUEUED)  # holds the one slot
    skipped = by_trigger[second.job_id]
    assert skipped.status == Status.SKIPPED
    assert skipped.status_message == "max_running_jobs (1) reached: 1 queued or running"
    assert slots.taken(downstream.job_definition_id) == 1


def test_a_chain_runs_through_with_real_kernels(service, define):
    a = define(name="a", parameters={"who": "a"})
    b = define(name="b", run_after=a.job_definition_id)
    c = define(name="c", run_after=b.job_definition_id, run_after_condition="completion")
    first = service.definitions.run(a.job_definition_id)
    last = wait_for(lambda: (found := _jobs_of(c)) and found[0].is_terminal and found[0], timeout=150)
    [middle] = _jobs_of(b)
    assert (jobs.get(first.job_id).status, middle.status, last.status) == (Status.COMPLETED,) * 3
    assert (middle.triggered_by, last.triggered_by) == (first.job_id, middle.job_id)


def _unchanged(definition):
    return definitions.get(definition.job_definition_id).version == definition.version


def test_cycles_a_missing_upstream_and_a_schedule_too_are_refused_and_change_nothing(service, define, notebook):
    a = define(name="cycle-a")
    b = define(name="cycle-b", run_after=a.job_definition_id)
    c = define(name="cycle-c", run_after=b.job_definition_id)
    refused = [
        (a, {"run_after": c.job_definition_id}, f"makes a cycle: {a.job_definition_id} after {c.job_definition_id}"),
        (a, {"run_after": a.job_definition_id}, "makes a cycle"),
        (b, {"run_after": "no-such-definition"}, "run_after 'no-such-definition': no job definition has this id"),
        (b, {"schedule": "0 9 * * *"}, "on a schedule or after another's job, not both"),
        (a, {"run_after_condition": "on failure"}, "run_after_condition 'on failure': needs run_after too"),
    ]
    for definition, changes, says in refused:
        with pytest.raises(InvalidSpec, match=says):
            service.definitions.update(definition.job_definition_id, UpdateJobDefinition(**changes))
        assert _unchanged(definition)
    assert definitions.get(c.job_definition_id).run_after == b.job_definition_id
    before = len(definitions.list_definitions(1000).job_definitions)
    for fields, says in [
        ({"run_after": "no-such-definition"}, "no job definition has this id or name"),
        ({"run_after": a.job_definition_id, "schedule": "0 9 * * *"}, "not both"),
    ]:
        with pytest.raises(InvalidSpec, match=says):
            service.definitions.create(CreateJobDefinition(input_uri=str(notebook), **fields))
    with pytest.raises(InvalidSpec, match=f"job definition '{a.job_definition_id}': {b.job_definition_id} run"):
        service.definitions.delete(a.job_definition_id)  # b would never run again
    assert len(definitions.list_definitions(1000).job_definitions) == before


def test_a_stored_cycle_fires_nothing(define, held):
    a = define()
    b = define(run_after=a.job_definition_id)
    # written to the store past the checks (as a racing replace could leave it): a after b after a
    definitions.update(a.job_definition_id, a.version, run_after=b.job_definition_id, run_after_condition="on success")
    ended_a, ended_b = _ended(a, Status.COMPLETED), _ended(b, Status.COMPLETED)
    after_job_ended(ended_a)
    after_job_ended(ended_b)
    assert [job.job_id for job in _jobs_of(a)] == [ended_a.job_id]
    assert [job.job_id for job in _jobs_of(b)] == [ended_b.job_id]
    definitions.update(a.job_definition_id, a.version, run_after=None, run_after_condition=None)


def test_racing_updates_never_store_a_cycle(service, define):
    def attempt(pair):
        definition, upstream = pair
        try:
            change = UpdateJobDefinition(run_after=upstream.job_definition_id)
            service.definitions.update(definition.job_definition_id, change)
        except (InvalidSpec, Conflict) as refused:  # a cycle seen, or a change that raced it
            return type(refused).__name__
        return "updated"

    outcomes = Counter()
    for _ in range(4):
        a, b = define(), define()
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes.update(pool.map(attempt, [(a, b), (b, a)] * (THREADS // 2)))
        after = {definitions.get(d.job_definition_id).run_after for d in (a, b)}
        assert after in ({a.job_definition_id, None}, {b.job_definition_id, None})  # one of them, never both
        for definition in (a, b):
            service.definitions.update(definition.job_definition_id, UpdateJobDefinition(run_after=""))
    assert outcomes["updated"] >= 4 and sum(outcomes.values()) == 4 * THREADS


def test_a_name_several_definitions_have_is_refused(define):
    define(name="twin")
    define(name="twin")
    with pytest.raises(InvalidSpec, match="run_after 'twin': 2 job definitions have this name"):
        define(run_after="twin")


def test_switching_from_run_after_to_a_schedule_and_back(service, define):
    upstream = define()
    downstream = define(run_after=upstream.job_definition_id)
    scheduled = service.definitions.update(
        downstream.job_definition_id, UpdateJobDefinition(run_after="", schedule="0 9 * * *")
    )
    assert (scheduled.run_after, scheduled.run_after_condition, scheduled.schedule) == (None, None, "0 9 * * *")
    assert definitions.downstream_of(upstream.job_definition_id) == []


def test_the_rest_api_refuses_a_missing_upstream_and_a_cycle_with_400(api, define):
    from tests.functional.test_api import _notebook

    a = define(name="rest-a")
    b = define(name="rest-b", run_after=a.job_definition_id)
    before = len(definitions.list_definitions(1000).job_definitions)
    body = {"input_filename": "step.ipynb", "input_notebook": _notebook(), "run_after": "nowhere-to-be-found"}
    status, answer = call(api, "POST", "/job_definitions", body)
    assert status == 400, answer
    assert "run_after 'nowhere-to-be-found': no job definition has this id or name" in str(answer)
    status, answer = call(api, "PATCH", f"/job_definitions/{a.job_definition_id}", {"run_after": b.job_definition_id})
    assert status == 400 and "makes a cycle" in str(answer), answer
    assert len(definitions.list_definitions(1000).job_definitions) == before and _unchanged(a)
    status, answer = call(api, "POST", "/job_definitions", {**body, "run_after": "rest-a", "run_after_condition": "x"})
    assert status in (400, 422) and "run_after_condition" in str(answer), answer
    status, shown = call(api, "GET", f"/job_definitions/{b.job_definition_id}")
    assert (shown["run_after"], shown["run_after_condition"]) == (a.job_definition_id, "on success")
    status, document = call(api, "GET", "/openapi.json")
    schema = document["components"]["schemas"]["DescribeJobDefinition"]["properties"]
    assert {"run_after", "run_after_condition"} <= set(schema)


def test_a_definitions_table_from_before_the_index_gets_it_at_bootstrap(stack):
    import dataclasses

    from shiftwork.config import get_settings
    from shiftwork.store.tables import DefinitionRecord, add_missing_indexes

    settings = dataclasses.replace(get_settings(), definitions_table=f"old-definitions-{uuid.uuid4().hex[:8]}")
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(  # as an older version made it: no by-upstream index (nor by-create-time)
        TableName=settings.definitions_table,
        AttributeDefinitions=[{"AttributeName": "job_definition_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_definition_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        add_missing_indexes(DefinitionRecord, settings)  # what create_tables does at every start
        add_missing_indexes(DefinitionRecord, settings)  # and again: nothing more to add
        table = dynamodb.describe_table(TableName=settings.definitions_table)["Table"]
        indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
        assert set(indexes) == {"by-create-time", "by-upstream"}
        assert indexes["by-upstream"]["KeySchema"] == [{"AttributeName": "run_after", "KeyType": "HASH"}]
    finally:
        dynamodb.delete_table(TableName=settings.definitions_table)
