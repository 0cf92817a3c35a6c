"""jupyter-scheduler's REST API, served by a real JupyterLab configured with ShiftworkScheduler, driven over HTTP.

The server runs in the worker's embedded stack's environment, so its scheduler is Shiftwork's Service there: jobs
created through JupyterLab are dispatched, run in a real kernel by the stack's launcher, and end COMPLETED.
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import cell_outputs, write_notebook
from tests.jupyter.server import JupyterServer

ENDED = {"COMPLETED", "FAILED", "STOPPED"}


@pytest.fixture(scope="module")
def service(stack):
    from shiftwork.api.service import Service

    return Service()


def create_job(lab: JupyterServer, notebook: str = "hello.ipynb", **fields: Any) -> str:
    body = {"input_uri": notebook, "runtime_environment_name": "python3", "name": "hello", **fields}
    status, answer = lab.call("POST", "/scheduler/jobs", body)
    assert status == 200, answer
    return str(answer["job_id"])


def wait_job(lab: JupyterServer, job_id: str, statuses: set[str] = ENDED, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, job = lab.call("GET", f"/scheduler/jobs/{job_id}")
        assert status == 200, job
        if job["status"] in statuses:
            return dict(job)
        assert time.monotonic() < deadline, f"job still {job['status']}:\n{lab.output()}"
        time.sleep(0.3)


def test_runtime_environments_are_shiftworks_kernels_and_config_says_what_it_supports(lab):
    status, environments = lab.call("GET", "/scheduler/runtime_environments")
    assert status == 200
    python = next(e for e in environments if e["name"] == "python3")
    formats = [f["name"] for f in python["output_formats"]]
    assert formats[:5] == ["ipynb", "html", "markdown", "script", "latex"]
    assert ("pdf" in formats) == (shutil.which("xelatex") is not None)  # what a job could get there
    assert python["output_formats"][1] == {"name": "html", "label": "HTML"}
    assert python["metadata"]["runs_on"] == "shiftwork"
    assert python["label"] == "python3"  # JupyterLab's picker sends the label as the environment's name

    status, config = lab.call("GET", "/scheduler/config")
    features = config["supported_features"]
    assert status == 200
    assert features["timeout_seconds"] and features["max_retries"] and features["email_notifications"]
    assert features["job_definition"] and features["idempotency_token"] and features["stop_job"]
    assert features["output_filename_template"] is False  # outputs are named one way


def test_a_job_runs_to_completed_and_its_files_download_into_the_root(lab, service):
    (lab.root / "data").mkdir()
    (lab.root / "data" / "factor.txt").write_text("2")
    write_notebook(
        lab.root / "hello.ipynb",
        "n = 1\nlabel = 'x'\nword = 'y'",
        "factor = int(open('data/factor.txt').read())  # beside it: the job runs with its input folder\n"
        "print('n is', n, label, word)\nopen('total.txt', 'w').write(str(n * factor))",
    )
    parameters = {"n": "21", "label": "'EU'", "word": "plain"}  # Python literals as text, and a bare word
    job_id = create_job(
        lab, parameters=parameters, output_formats=["ipynb", "html"], tags=["lab"], package_input_folder=True
    )
    job = wait_job(lab, job_id)
    assert job["status"] == "COMPLETED", job["status_message"]
    assert service.get_job(job_id).parameters == {"n": 21, "label": "EU", "word": "plain"}  # typed as papermill's
    assert job["parameters"] == {"n": "21", "label": "'EU'", "word": "'plain'"}  # shown back as literals
    assert job["runtime_environment_name"] == "python3" and job["tags"] == ["lab"]
    assert job["packaged_files"] == ["total.txt"] and job["downloaded"] is False
    assert [f["file_path"] for f in job["job_files"]] == [None, None, None, None]  # nothing downloaded yet

    status, _ = lab.call("GET", f"/scheduler/jobs/{job_id}/download_files")
    assert status == 204
    deadline = time.monotonic() + 30
    while not (job := lab.call("GET", f"/scheduler/jobs/{job_id}")[1])["downloaded"]:
        assert time.monotonic() < deadline, lab.output()
        time.sleep(0.2)
    shown = {f["file_format"]: f["file_path"] for f in job["job_files"]}
    folder = f"jobs/hello-{job_id}"
    assert shown["input"] == f"{folder}/hello.ipynb" and shown["files"] == folder
    assert shown["ipynb"].startswith(f"{folder}/hello-") and shown["ipynb"].endswith(".ipynb")
    assert shown["html"] == shown["ipynb"][: -len("ipynb")] + "html"
    assert "n is 21 EU plain\n" in cell_outputs(lab.root / shown["ipynb"])  # the executed notebook
    assert cell_outputs(lab.root / shown["input"]) == []  # the input as it was submitted
    assert "n is 21 EU plain" in (lab.root / shown["html"]).read_text()
    assert (lab.root / folder / "total.txt").read_text() == "42"  # a side-effect file
    assert (lab.root / folder / "data" / "factor.txt").read_text() == "2"  # the input folder it ran with
    assert job["package_input_folder"] is True


def test_stop_rename_and_delete(lab, service):
    write_notebook(lab.root / "slow.ipynb", "pause = 120", "import time\ntime.sleep(pause)")
    job_id = create_job(lab, "slow.ipynb", name="slow")
    wait_job(lab, job_id, {"IN_PROGRESS"})
    assert lab.call("PATCH", f"/scheduler/jobs/{job_id}", {"status": "COMPLETED"})[0] == 400
    assert lab.call("PATCH", f"/scheduler/jobs/{job_id}", {"name": "slow, renamed"})[0] == 204
    status, answer = lab.call("PATCH", f"/scheduler/jobs/{job_id}", {"compute_type": "ml.m5.large"})
    assert status == 400 and "compute_type 'ml.m5.large'" in answer["message"]
    assert lab.call("PATCH", f"/scheduler/jobs/{job_id}", {"status": "STOPPED"})[0] == 204
    stopped = wait_job(lab, job_id, {"STOPPED"}, timeout=60)
    assert stopped["name"] == "slow, renamed" and service.get_job(job_id).status.value == "STOPPED"
    status, answer = lab.call("PATCH", f"/scheduler/jobs/{job_id}", {"status": "STOPPED"})
    assert status == 409 and "STOPPED" in answer["message"]  # it has ended already

    assert lab.call("DELETE", f"/scheduler/jobs/{job_id}")[0] == 204
    status, answer = lab.call("GET", f"/scheduler/jobs/{job_id}")
    assert status == 404 and job_id in answer["message"]


def test_list_filters_sorts_pages_and_counts(lab):
    write_notebook(lab.root / "quick.ipynb", "x = 1", "print(x)")
    tag = f"batch-{time.time_ns()}"
    ids = [create_job(lab, "quick.ipynb", name=f"quick-{letter}", tags=[tag]) for letter in "cab"]
    for job_id in ids:
        wait_job(lab, job_id)
    status, page = lab.call("GET", f"/scheduler/jobs?tags={tag}&sort_by=asc(name)&max_items=2")
    assert status == 200 and page["total_count"] == 3
    assert [j["name"] for j in page["jobs"]] == ["quick-a", "quick-b"]
    status, rest = lab.call(
        "GET", f"/scheduler/jobs?tags={tag}&sort_by=asc(name)&max_items=2&next_token={page['next_token']}"
    )
    assert [j["name"] for j in rest["jobs"]] == ["quick-c"] and "next_token" not in rest
    newest = lab.call("GET", f"/scheduler/jobs?tags={tag}")[1]["jobs"]  # default: newest first
    assert [j["job_id"] for j in newest] == ids[::-1]
    assert lab.call("GET", f"/scheduler/jobs?tags={tag}&name=quick-b")[1]["total_count"] == 1
    assert lab.call("GET", f"/scheduler/jobs?tags={tag}&status=FAILED")[1] == {"jobs": [], "total_count": 0}
    assert lab.call("GET", "/scheduler/jobs?max_items=0")[1]["jobs"] == []  # JupyterLab's probe of the extension
    status, count = lab.call("GET", "/scheduler/jobs/count?status=COMPLETED")
    assert status == 200 and count["count"] >= 3


def test_one_idempotency_token_makes_one_job_however_many_send_it_at_once(lab, service):
    from shiftwork.models import ListJobsQuery

    write_notebook(lab.root / "once.ipynb", "x = 1", "print(x)")
    token = f"token-{time.time_ns()}"
    answers: list[tuple[int, Any]] = []
    body = {
        "input_uri": "once.ipynb",
        "runtime_environment_name": "python3",
        "name": "once",
        "idempotency_token": token,
    }
    threads = [
        threading.Thread(target=lambda: answers.append(lab.call("POST", "/scheduler/jobs", body))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 8
    assert len({answer["job_id"] for _, answer in answers}) == 1
    made = [j for j in service.iter_jobs(query=ListJobsQuery(name="once")) if j.idempotency_token == token]
    assert len(made) == 1 and wait_job(lab, made[0].job_id)["idempotency_token"] == token


def test_a_skipped_fire_shows_as_stopped_with_the_reason(lab, service, tmp_path):
    from shiftwork.dispatch.fire import handle_schedule_fired
    from shiftwork.launchers import FargateLauncher
    from shiftwork.models import CreateJobDefinition
    from shiftwork.store import definitions

    notebook = write_notebook(tmp_path / "late.ipynb", "x = 1", "print(x)")
    created = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), schedule="*/15 * * * *", misfire_grace_time=60, name="late")
    )
    since = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
    definitions.update(created.job_definition_id, created.version, active_since=since)
    fire = datetime.now(UTC).replace(second=0, microsecond=0)
    fire -= timedelta(minutes=fire.minute % 15)
    payload = {"job_definition_id": created.job_definition_id, "scheduled_time": fire.strftime("%Y-%m-%dT%H:%M:%SZ")}
    skipped = handle_schedule_fired(payload, FargateLauncher(), now=fire + timedelta(seconds=90))
    assert skipped.status.value == "SKIPPED"

    job = lab.call("GET", f"/scheduler/jobs/{skipped.job_id}")[1]
    assert job["status"] == "STOPPED"
    assert job["status_message"] == f"skipped: {skipped.status_message}"  # missed start deadline: 90 s late...
    stopped = lab.call("GET", f"/scheduler/jobs?job_definition_id={created.job_definition_id}&status=STOPPED")[1]
    assert [j["job_id"] for j in stopped["jobs"]] == [skipped.job_id]
    service.definitions.delete(created.job_definition_id)


def test_a_definition_round_trips_and_runs(lab, service):
    write_notebook(lab.root / "daily.ipynb", "who = 'nobody'", "print('hello', who)")
    body = {
        "input_uri": "daily.ipynb",
        "runtime_environment_name": "python3",
        "runtime_environment_parameters": {"max_retries": 2, "notify": "failure", "timeout_seconds": 600},
        "name": "daily",
        "parameters": {"who": "'team'"},
        "output_formats": ["ipynb", "html"],
        "tags": ["reports"],
        "schedule": "0 9 * * 1-5",
        "timezone": "Europe/London",
    }
    status, answer = lab.call("POST", "/scheduler/job_definitions", body)
    assert status == 200, answer
    definition_id = answer["job_definition_id"]
    stored = service.definitions.get(definition_id)
    assert (stored.schedule, stored.timezone, stored.kernel_name) == ("0 9 * * 1-5", "Europe/London", "python3")
    assert (stored.max_retries, stored.notify, stored.timeout_seconds) == (2, ["failure"], 600)
    assert stored.compiled[0]["expression"] == "cron(0 9 ? * 2-6 *)" and stored.parameters == {"who": "team"}

    shown = lab.call("GET", f"/scheduler/job_definitions/{definition_id}")[1]
    assert {key: shown[key] for key in body if key != "input_uri"} == {
        **{key: value for key, value in body.items() if key != "input_uri"},
        "runtime_environment_parameters": {"max_retries": 2, "notify": "failure", "timeout_seconds": 600.0},
    }
    assert shown["input_filename"] == "daily.ipynb" and shown["active"] is True
    listed = lab.call("GET", "/scheduler/job_definitions?name=daily")[1]["job_definitions"]
    assert [(d["job_definition_id"], d["schedule"]) for d in listed] == [(definition_id, "0 9 * * 1-5")]

    assert lab.call("PATCH", f"/scheduler/job_definitions/{definition_id}", {"active": False})[0] == 204
    assert service.definitions.get(definition_id).active is False
    assert lab.call("PATCH", f"/scheduler/job_definitions/{definition_id}", {"active": True})[0] == 204
    edit = {"schedule": "30 8 * * *", "timezone": "Europe/London", "input_uri": "daily.ipynb"}  # the edit form's
    assert lab.call("PATCH", f"/scheduler/job_definitions/{definition_id}", edit)[0] == 204
    edited = service.definitions.get(definition_id)
    assert (edited.schedule, edited.active, edited.version) == ("30 8 * * *", True, 2)

    status, answer = lab.call(
        "POST", f"/scheduler/job_definitions/{definition_id}/jobs", {"parameters": {"who": "'lab'"}}
    )
    assert status == 200, answer
    job = wait_job(lab, answer["job_id"])
    assert job["status"] == "COMPLETED" and job["job_definition_id"] == definition_id
    assert service.get_job(job["job_id"]).parameters == {"who": "lab"}
    of_definition = lab.call("GET", f"/scheduler/jobs?job_definition_id={definition_id}")[1]["jobs"]
    assert [j["job_id"] for j in of_definition] == [job["job_id"]]

    assert lab.call("DELETE", f"/scheduler/job_definitions/{definition_id}")[0] == 204
    assert lab.call("GET", f"/scheduler/job_definitions/{definition_id}")[0] == 404


def test_a_schedule_plain_cron_cannot_express_is_shown_as_written_and_read_only(lab, service, tmp_path):
    from shiftwork.models import CreateJobDefinition

    notebook = write_notebook(tmp_path / "often.ipynb", "x = 1", "print(x)")
    created = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), schedule="rate(15 minutes)", name="often-rate")
    )
    definition_id = created.job_definition_id
    assert lab.call("GET", f"/scheduler/job_definitions/{definition_id}")[1]["schedule"] == "rate(15 minutes)"
    [listed] = lab.call("GET", "/scheduler/job_definitions?name=often-rate")[1]["job_definitions"]
    assert "schedule" not in listed  # JupyterLab's list would throw describing it as cron

    status, answer = lab.call("PATCH", f"/scheduler/job_definitions/{definition_id}", {"schedule": "0 9 * * *"})
    assert (
        status == 400 and "plain cron cannot express" in answer["message"] and "rate(15 minutes)" in answer["message"]
    )
    assert lab.call("PATCH", f"/scheduler/job_definitions/{definition_id}", {"timezone": "Asia/Tokyo"})[0] == 400
    assert service.definitions.get(definition_id).version == 1  # nothing changed
    unchanged = {"schedule": "rate(15 minutes)", "timezone": "UTC", "active": False}  # the form sends it back
    assert lab.call("PATCH", f"/scheduler/job_definitions/{definition_id}", unchanged)[0] == 204
    assert service.definitions.get(definition_id).active is False
    service.definitions.delete(definition_id)


BAD_JOBS = [
    ({"input_uri": "missing.ipynb"}, "input_uri"),
    ({"input_uri": "../outside.ipynb"}, "input_uri"),
    ({"parameters": {"1x": "2"}}, "parameter name"),
    ({"runtime_environment_name": "cobol"}, "runtime_environment_name 'cobol': is not a kernel Shiftwork can run"),
    ({"runtime_environment_parameters": {"cpu": 4}}, "runtime_environment_parameters.cpu"),
    ({"runtime_environment_parameters": {"timeout_seconds": 0}}, "timeout_seconds"),
    ({"output_formats": ["docx"]}, "docx"),
    ({"compute_type": "ml.m5.large"}, "compute_type"),
    ({"name": ""}, "name"),
]


@pytest.mark.parametrize(("change", "named"), BAD_JOBS)
def test_a_bad_job_is_a_400_naming_the_field_and_makes_nothing(lab, service, change, named):
    (lab.root / "ok.ipynb").exists() or write_notebook(lab.root / "ok.ipynb", "x = 1", "print(x)")
    before = sum(1 for _ in service.iter_jobs())
    body = {"input_uri": "ok.ipynb", "runtime_environment_name": "python3", "name": "bad", **change}
    status, answer = lab.call("POST", "/scheduler/jobs", body)
    assert status == 400, answer
    assert named in answer["message"]
    assert sum(1 for _ in service.iter_jobs()) == before


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"schedule": "0 25 * * *"}, "hour field '25'"),
        ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"schedule": "nope"}, "nope"),
        ({"runtime_environment_parameters": {"notify": "sometimes"}}, "sometimes"),
    ],
)
def test_a_bad_definition_is_a_400_naming_the_field_and_makes_nothing(lab, service, change, named):
    (lab.root / "ok.ipynb").exists() or write_notebook(lab.root / "ok.ipynb", "x = 1", "print(x)")
    before = service.definitions.list(max_items=1000).job_definitions
    body = {
        "input_uri": "ok.ipynb",
        "runtime_environment_name": "python3",
        "name": "bad",
        "schedule": "0 9 * * *",
        **change,
    }
    status, answer = lab.call("POST", "/scheduler/job_definitions", body)
    assert status == 400, answer
    assert named in answer["message"]
    assert service.definitions.list(max_items=1000).job_definitions == before


def test_what_is_not_there_is_a_404(lab):
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path, body in [
        ("GET", f"/scheduler/jobs/{missing}", None),
        ("DELETE", f"/scheduler/jobs/{missing}", None),
        ("PATCH", f"/scheduler/jobs/{missing}", {"status": "STOPPED"}),
        ("GET", f"/scheduler/job_definitions/{missing}", None),
        ("POST", f"/scheduler/job_definitions/{missing}/jobs", {}),
        ("GET", f"/scheduler/jobs/{missing}/download_files", None),
    ]:
        status, answer = lab.call(method, path, body)
        assert status == 404, (method, path, answer)


def test_over_a_deployed_stacks_rest_api(stack, tmp_path_factory):
    """ShiftworkScheduler.api_url: the scheduler is a Client of that API (here `shiftwork up`'s own, on a socket),
    and the Jupyter server has none of the stack's environment."""
    import os

    from shiftwork.local.http_api import HttpApi, api_token
    from tests.jupyter.server import jupyter_lab

    api = HttpApi(api_token(tmp_path_factory.mktemp("api"))).start()
    bare = {k: v for k, v in os.environ.items() if not k.startswith(("SHIFTWORK_", "AWS_"))}
    try:
        options = (f"--ShiftworkScheduler.api_url={api.url}", f"--ShiftworkScheduler.api_token={api.token}")
        with jupyter_lab(tmp_path_factory.mktemp("remote"), *options, env=bare) as lab:
            assert "the REST API at" in lab.output()
            write_notebook(lab.root / "remote.ipynb", "x = 20", "print('x is', x + 1)")
            job_id = create_job(lab, "remote.ipynb", name="remote", output_formats=["ipynb", "markdown"])
            job = wait_job(lab, job_id)
            assert job["status"] == "COMPLETED", job["status_message"]
            assert lab.call("GET", f"/scheduler/jobs/{job_id}/download_files")[0] == 204
            deadline = time.monotonic() + 30
            while not (job := lab.call("GET", f"/scheduler/jobs/{job_id}")[1])["downloaded"]:
                assert time.monotonic() < deadline, lab.output()
                time.sleep(0.2)
            markdown = next(f["file_path"] for f in job["job_files"] if f["file_format"] == "markdown")
            assert markdown.endswith(".md") and "x is 21" in (lab.root / markdown).read_text()
    finally:
        api.stop()


def test_deleting_a_running_job_stops_it_first(lab, service):
    write_notebook(lab.root / "long.ipynb", "pause = 120", "import time\ntime.sleep(pause)")
    job_id = create_job(lab, "long.ipynb", name="long")
    wait_job(lab, job_id, {"IN_PROGRESS"})
    assert lab.call("DELETE", f"/scheduler/jobs/{job_id}")[0] == 204  # as Jupyter Scheduler's own delete does
    assert lab.call("GET", f"/scheduler/jobs/{job_id}")[0] == 404


def test_without_a_stack_or_an_api_it_says_how_to_get_one(tmp_path):
    """No api_url, no stack environment and no `shiftwork up`: every call is a 503 saying what to start."""
    from shiftwork.errors import StackUnavailable
    from shiftwork.jupyter.backend import choose_backend
    from shiftwork.jupyter.http_status import ShiftworkSchedulerError, status_of

    backend = choose_backend("", "", False, tmp_path / "state")
    with pytest.raises(StackUnavailable, match=r"no `shiftwork up` is running over it.*SHIFTWORK_API_URL") as raised:
        backend.get_job("00000000-0000-4000-8000-000000000000")
    assert status_of(ShiftworkSchedulerError(raised.value)) == 503
