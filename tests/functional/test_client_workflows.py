"""Workflows through shiftwork.Client over a real socket: run, results (JSON and pickle), logs, details, rerun, deploy;
every client mistake a 4xx naming the field, and nothing written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import urllib3

from shiftwork.models.workflow import RunWorkflow, TaskSpec, WorkflowSpec

MODULE = """
import os

def load(day):
    print("loading", day)
    return [1.0, 2.0, 3.0]

def fit(data, alpha):
    return {"alpha": alpha, "score": sum(data) * alpha}

def best(models):
    return max(models, key=lambda m: m["score"])

def distinct(data):
    return frozenset(data)  # not JSON: kept as a pickle

def flaky(marker, data):
    if not os.path.exists(marker):
        raise RuntimeError("no marker yet")
    return len(data)
"""


def spec(*extra: TaskSpec) -> WorkflowSpec:
    return WorkflowSpec(
        name="client-pipe",
        function="pipe:daily",
        module_file="pipe.py",
        parameters={"day": "d0", "marker": "/nonexistent"},
        tasks=[
            TaskSpec(name="load", function="pipe:load", arguments={"day": {"$param": "day"}}, executor="lambda"),
            TaskSpec(
                name="fit_0",
                function="pipe:fit",
                arguments={"data": {"$ref": "load"}, "alpha": 0.5},
                resources={"cpu": 0.3, "memory": "700m"},  # rounded up to 0.5 vCPU, 1 GB
            ),
            TaskSpec(name="fit_1", function="pipe:fit", arguments={"data": {"$ref": "load"}, "alpha": 2.0}),
            TaskSpec(
                name="best",
                function="pipe:best",
                arguments={"models": [{"$ref": "fit_0"}, {"$ref": "fit_1"}]},
                executor="lambda",
            ),
            *extra,
        ],
    )


DISTINCT = TaskSpec(name="distinct", function="pipe:distinct", arguments={"data": {"$ref": "load"}}, executor="lambda")
FLAKY = TaskSpec(
    name="flaky",
    function="pipe:flaky",
    arguments={"marker": {"$param": "marker"}, "data": {"$ref": "best"}},
    executor="lambda",
)


@pytest.fixture
def client(api):
    from shiftwork.client import Client

    return Client(api.url, token=api.token)


@pytest.fixture
def code(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "pipe.py").write_text(MODULE)
    return {"pipe.py": tmp_path / "pipe.py"}


def test_a_run_through_the_client_gives_its_results_logs_and_details(client, code):
    from shiftwork.workflows.sdk import RunHandle

    job = client.workflows.run(RunWorkflow(spec=spec(DISTINCT), parameters={"day": "d1"}), code)
    run = RunHandle(job.job_id, client)  # the SDK's handle drives the Client as it drives a Service
    done = run.wait(timeout=90)
    assert done.status.value == "COMPLETED", done.status_message
    assert done.kind == "workflow"
    assert run.result("best") == {"alpha": 2.0, "score": 12.0}
    assert run.result("distinct") == frozenset({1.0, 2.0, 3.0})  # downloaded and unpickled client side
    pickled = client.workflows.result(job.job_id, "distinct")
    assert pickled.format == "pickle" and pickled.value is None and pickled.download_url.startswith("http")
    assert client.workflows.result(job.job_id, "fit_1").value == {"alpha": 2.0, "score": 12.0}
    assert "loading d1" in run.logs("load")
    assert [t.task_id for t in client.workflows.tasks(job.job_id)] == ["load", "fit_0", "fit_1", "best", "distinct"]
    assert {t.status.value for t in run.tasks()} == {"COMPLETED"}

    details = client.workflows.details(job.job_id)
    assert details.run["job_id"] == job.job_id
    by_id = {t.task_id: t for t in details.tasks}
    assert by_id["fit_0"].sizing == "0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB"
    assert by_id["fit_0"].resources.cpu == 0.5
    assert details.total_cost_usd > 0 and all(t.cost_usd and t.cost_usd > 0 for t in details.tasks)
    assert all(t.run_seconds is not None and t.launch_seconds is not None for t in details.tasks)

    runs = client.list_jobs(_runs_query())
    assert job.job_id in [r.job_id for r in runs.jobs] and {r.kind for r in runs.jobs} == {"workflow"}


def _runs_query():
    from shiftwork.models import ListJobsQuery

    return ListJobsQuery(kind="workflow", max_items=1000)


def test_a_rerun_runs_only_the_failed_task_and_reuses_the_rest(client, code, tmp_path):
    marker = tmp_path / "marker"
    job = client.workflows.run(RunWorkflow(spec=spec(FLAKY), parameters={"marker": str(marker)}), code)
    failed = client.wait_job(job.job_id, timeout=90)
    assert failed.status.value == "FAILED"
    states = {t.task_id: t.status.value for t in client.workflows.tasks(job.job_id)}
    assert states == {"load": "COMPLETED", "fit_0": "COMPLETED", "fit_1": "COMPLETED", "best": "COMPLETED"} | {
        "flaky": "FAILED"
    }
    with pytest.raises(Exception, match="no result yet"):
        client.workflows.result(job.job_id, "flaky")

    marker.touch()
    rerun = client.workflows.rerun(job.job_id)
    assert rerun.original_run_id == job.job_id and rerun.partial_rerun
    done = client.wait_job(rerun.job_id, timeout=90)
    assert done.status.value == "COMPLETED", done.status_message
    tasks = {t.task_id: t for t in client.workflows.tasks(rerun.job_id)}
    assert {name for name, t in tasks.items() if t.reused_from == job.job_id} == {"load", "fit_0", "fit_1", "best"}
    assert tasks["flaky"].reused_from is None
    assert client.workflows.result_value(rerun.job_id, "flaky") == 2


def test_a_deployed_workflow_is_versioned_and_runs(client, code):
    from shiftwork.api.workflows import WorkflowCode
    from shiftwork.models import CreateJobDefinition

    request = CreateJobDefinition(input_uri=str(code["pipe.py"]), conflict_policy="replace", schedule="0 6 * * mon")
    first = client.workflows.deploy(request, WorkflowCode(spec(), code), "client-pipe")
    again = client.workflows.deploy(request, WorkflowCode(spec(), code), "client-pipe")
    try:
        assert (first.kind, first.version, again.version) == ("workflow", 1, 2)
        assert first.name == "client-pipe" and first.workflow["tasks"][0]["name"] == "load"
        run = client.definitions.run("client-pipe", {"day": "d9"})
        done = client.wait_job(run.job_id, timeout=90)
        assert done.status.value == "COMPLETED", done.status_message
        assert "loading d9" in "\n".join(e["message"] for e in client.workflows.logs(run.job_id, "load")[0])
        listed = client.request("GET", "/runs", job_definition_id="client-pipe")["jobs"]
        assert [r["job_id"] for r in listed] == [run.job_id]
    finally:
        client.definitions.delete("client-pipe")


def _post(api, path: str, body: object) -> tuple[int, dict]:
    response = urllib3.request(
        "POST",
        api.url + path,
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    return response.status, json.loads(response.data)


def _runs_and_keys() -> tuple[set[str], set[str]]:
    from shiftwork.api.service import Service
    from shiftwork.store import files

    jobs = {job.job_id for job in Service().iter_jobs()}
    return jobs, set(files.iter_keys("jobs/"))


GOOD_CODE = {"pipe.py": base64.b64encode(MODULE.encode()).decode()}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"code_files": {"other.py": GOOD_CODE["pipe.py"]}}, "spec.module_file", "is not among code_files"),
        ({"code_files": {**GOOD_CODE, "data/x.bin": "not base64!"}}, "code_files.data/x.bin", "base64"),
        ({"code_files": {**GOOD_CODE, "../up.py": "eA=="}}, "code_files", "inside its folder"),
        ({"code_files": {**GOOD_CODE, ".shiftwork-workflow.json": "e30="}}, "code", "Shiftwork's own file name"),
        ({"parameters": {"nope": 1}}, "parameters.nope", "takes day, marker"),
        (
            {"code_files": {**GOOD_CODE, "big.bin": base64.b64encode(b"x" * (4 * 1024 * 1024 + 1)).decode()}},
            "code_files",
            "MiB sent inline",
        ),
    ],
)
def test_a_bad_run_request_is_a_400_naming_the_field_and_writes_nothing(api, body, field, words):
    before = _runs_and_keys()
    request = {"spec": spec().model_dump(mode="json"), "code_files": GOOD_CODE, **body}
    status, answer = _post(api, "/workflows/runs", request)
    assert (status, answer["field"]) == (400, field), answer
    assert words in answer["message"]
    assert "shiftwork-inline-" not in answer["message"]  # the scratch folder is never named
    assert _runs_and_keys() == before


def test_a_bad_spec_or_a_wrong_id_is_refused_clearly(api, client, make_job):
    cyclic = spec().model_dump(mode="json")
    cyclic["tasks"][0]["arguments"] = {"day": {"$ref": "best"}}
    status, answer = _post(api, "/workflows/runs", {"spec": cyclic, "code_files": GOOD_CODE})
    assert status == 400 and "cycle" in answer["message"], answer
    from shiftwork.client import RemoteInvalid, RemoteNotFound

    notebook_job = make_job()
    with pytest.raises(RemoteInvalid, match="is a notebook job, not a workflow run"):
        client.workflows.details(notebook_job.job_id)
    with pytest.raises(RemoteNotFound):
        client.workflows.tasks("00000000-0000-4000-8000-000000000000")
    status, answer = _post(api, f"/runs/{notebook_job.job_id}/rerun", {"full": "maybe"})
    assert status == 422 and answer["field"] == "full", answer


def test_the_cli_reads_a_run_through_the_api(api, client, code, tmp_path):
    """`shiftwork --endpoint URL runs ...`: the same commands through the REST API (a Client), not the store."""
    from typer.testing import CliRunner

    from shiftwork.cli.app import app
    from shiftwork.cli.common import use_endpoint

    job = client.workflows.run(RunWorkflow(spec=spec(DISTINCT)), code)
    assert client.wait_job(job.job_id, timeout=90).status.value == "COMPLETED"
    remote = ["--endpoint", api.url, "--token", api.token]
    runner = CliRunner()
    try:
        shown = runner.invoke(app, [*remote, "runs", "show", job.job_id])
        assert shown.exit_code == 0, shown.output
        assert "0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB" in shown.output and "█" in shown.output
        best = runner.invoke(app, [*remote, "runs", "result", job.job_id, "--task", "best", "--json"])
        assert json.loads(best.output) == {"alpha": 2.0, "score": 12.0}
        out = tmp_path / "distinct.pickle"
        pickled = runner.invoke(app, [*remote, "runs", "result", job.job_id, "--task", "distinct", "--out", str(out)])
        assert pickled.exit_code == 0 and "pickled Python object" in pickled.output
        import pickle

        assert pickle.loads(out.read_bytes()) == frozenset({1.0, 2.0, 3.0})
        listed = runner.invoke(app, [*remote, "runs", "--status", "COMPLETED"])
        assert job.job_id in listed.output
        wrong = runner.invoke(app, [*remote, "runs", "logs", job.job_id, "--task", "nope"])
        assert wrong.exit_code == 2 and "nope" in wrong.output
    finally:
        use_endpoint(None, None)
