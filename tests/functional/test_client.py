"""shiftwork.Client over a real socket: the REST API served on 127.0.0.1, authenticated by bearer token or by AWS
SigV4 checked as an HTTP API with IAM authorisation checks it."""

from __future__ import annotations

import json

import pytest
import urllib3

from tests.functional.conftest import wait_for
from tests.helpers import cell_outputs, write_notebook

ACCESS_KEY, SECRET_KEY = "AKIDSHIFTWORKTEST", "shiftwork-test-secret"


@pytest.fixture(scope="module")
def api(stack, tmp_path_factory):
    from shiftwork.local.http_api import HttpApi, api_token

    server = HttpApi(api_token(tmp_path_factory.mktemp("api")), iam_credentials=(ACCESS_KEY, SECRET_KEY)).start()
    yield server
    server.stop()


@pytest.fixture
def client(api):
    from shiftwork.client import Client

    return Client(api.url, token=api.token)


@pytest.fixture
def signing(monkeypatch):
    """The caller's AWS credentials, as boto3 finds them in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def _finished(client, job_id):
    return wait_for(lambda: (job := client.get_job(job_id)).is_terminal and job, timeout=90)


def test_a_notebook_with_its_folder_runs_and_its_files_come_back(client, tmp_path):
    from shiftwork.models import CreateJob

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "prices.csv").write_text("day,price\nmon,3\ntue,4\n")
    notebook = write_notebook(
        tmp_path / "report.ipynb",
        "factor = 1",
        "rows = open('data/prices.csv').read().splitlines()[1:]\n"
        "total = sum(int(r.split(',')[1]) for r in rows) * factor\n"
        "open('total.txt', 'w').write(str(total))\nprint('total', total)",
    )
    job = client.create_job(CreateJob(input_uri=str(notebook), parameters={"factor": 10}, package_input_folder=True))
    done = _finished(client, job.job_id)
    assert done.status.value == "COMPLETED", done.status_message
    written = client.download_job_files(job.job_id, tmp_path / "out")
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in written)
    assert "report.ipynb" in names and "files/total.txt" in names
    assert (tmp_path / "out" / "files" / "total.txt").read_text() == "70"
    assert "total 70\n" in cell_outputs(tmp_path / "out" / "report.ipynb")
    assert not (tmp_path / "out" / "input").exists()  # the input only when asked for
    with_input = client.download_job_files(job.job_id, tmp_path / "all", include_input=True)
    inputs = sorted(p.relative_to(tmp_path / "all").as_posix() for p in with_input if "input/" in p.as_posix())
    assert inputs == ["input/data/prices.csv", "input/report.ipynb"]  # the folder it ran from, as submitted
    assert cell_outputs(tmp_path / "all" / "input" / "report.ipynb") == []  # not executed
    formats = {u["path"]: u["file_format"] for u in client.download_urls(job.job_id, include_input=True)}
    assert formats["input/report.ipynb"] == "input" and formats["report.ipynb"] == "ipynb"

    def printed() -> bool:  # the runner's output reaches CloudWatch Logs a moment after the job ends
        events, token = client.job_logs(job.job_id)
        while batch := client.job_logs(job.job_id, token)[0]:
            events += batch
        return any("total 70" in e["message"] for e in events)

    wait_for(printed, timeout=30)
    assert job.job_id in [j.job_id for j in client.iter_jobs(job_definition_id=None)]


def test_definitions_through_the_api(client, tmp_path):
    from shiftwork.models import CreateJobDefinition, UpdateJobDefinition

    notebook = write_notebook(tmp_path / "daily.ipynb", "who = 'v1'", "print('hello', who)")
    created = client.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), schedule="0 7 * * 1-5", timezone="Europe/London", name="daily")
    )
    assert created.version == 1 and created.compiled[0]["expression"] == "cron(0 7 ? * 2-6 *)"
    assert created.job_definition_id in [d.job_definition_id for d in client.definitions.list().job_definitions]

    write_notebook(tmp_path / "v2.ipynb", "who = 'v2'", "print('hello again', who)")
    updated = client.definitions.update(
        created.job_definition_id, UpdateJobDefinition(input_uri=str(tmp_path / "v2.ipynb"), schedule="30 7 * * *")
    )
    assert updated.version == 2 and updated.schedule == "30 7 * * *"
    assert client.definitions.pause(created.job_definition_id).active is False
    assert client.definitions.resume(created.job_definition_id).active is True

    job = client.definitions.run(created.job_definition_id, {"who": "api"})
    done = _finished(client, job.job_id)
    assert done.status.value == "COMPLETED", done.status_message
    client.download_job_files(job.job_id, tmp_path / "out")
    assert "hello again api\n" in cell_outputs(tmp_path / "out" / "v2.ipynb")  # the new snapshot ran
    from shiftwork.api.service import Service

    Service().download_job_files(job.job_id, tmp_path / "in", include_input=True)  # the definition's snapshot
    snapshot = json.loads((tmp_path / "in" / "input" / "v2.ipynb").read_text())
    assert snapshot == json.loads((tmp_path / "v2.ipynb").read_text())  # the notebook as sent (reformatted)

    client.definitions.delete(created.job_definition_id)
    from shiftwork.errors import NotFound

    with pytest.raises(NotFound):
        client.definitions.get(created.job_definition_id)


def test_errors_are_the_library_errors_with_the_servers_words(client, tmp_path):
    from shiftwork.errors import Conflict, InvalidSpec, NotFound
    from shiftwork.models import CreateJob, CreateJobDefinition, Status

    notebook = write_notebook(tmp_path / "n.ipynb", "x = 1", "import time\ntime.sleep(30)")
    with pytest.raises(InvalidSpec, match="minute field '61': is out of range 0-59"):
        client.definitions.create(CreateJobDefinition(input_uri=str(notebook), schedule="61 * * * *"))
    with pytest.raises(InvalidSpec, match="kernel"):
        client.create_job(CreateJob(input_uri=str(notebook), kernel_name="cobol"))
    with pytest.raises(NotFound, match="not found"):
        client.get_job("00000000-0000-4000-8000-000000000000")
    job = client.create_job(CreateJob(input_uri=str(notebook)))
    wait_for(lambda: client.get_job(job.job_id).status.value == "IN_PROGRESS", timeout=60)
    with pytest.raises(Conflict, match="IN_PROGRESS"):
        client.delete_job(job.job_id)
    with pytest.raises(InvalidSpec, match="can only be asked to stop"):
        client.update_job(job.job_id, status=Status.COMPLETED)
    assert client.update_job(job.job_id, name="renamed").name == "renamed"  # PATCH, as Jupyter Scheduler's UpdateJob
    client.update_job(job.job_id, status=Status.STOPPED)
    stopped = _finished(client, job.job_id)
    assert (stopped.status.value, stopped.name) == ("STOPPED", "renamed")


def test_folder_too_big_to_send_inline_is_refused_before_anything_is_made(client, tmp_path):
    from shiftwork.errors import InvalidSpec
    from shiftwork.models import CreateJob

    notebook = write_notebook(tmp_path / "big.ipynb", "x = 1")
    (tmp_path / "blob.bin").write_bytes(b"\0" * (5 << 20))
    before = sum(1 for _ in client.iter_jobs())
    with pytest.raises(InvalidSpec, match="MiB"):  # over what the API takes, or what it takes inline
        client.create_job(CreateJob(input_uri=str(notebook), package_input_folder=True))
    assert sum(1 for _ in client.iter_jobs()) == before


def test_upload_through_a_presigned_url_runs_the_notebook(client, tmp_path):
    notebook = write_notebook(tmp_path / "landed.ipynb", "x = 2", "print('landed', x * 21)")
    client.upload(notebook, "inbox/client/landed.ipynb")
    tag = f"s3://{client.settings.bucket}/inbox/client/landed.ipynb"
    job = wait_for(lambda: next((j for j in client.iter_jobs() if tag in j.tags), None), timeout=30)
    assert _finished(client, job.job_id).status.value == "COMPLETED"
    from shiftwork.errors import InvalidSpec

    with pytest.raises(InvalidSpec, match="jobs/ and definitions/"):
        client.upload(notebook, "jobs/forged/output/x.ipynb")


def test_sigv4_signed_requests_are_accepted_and_tampered_ones_refused(api, signing):
    from shiftwork.client import Client

    client = Client(api.url)  # no token: signs with the environment's AWS credentials
    assert client.settings.bucket == "shiftwork-data"
    assert isinstance(client.list_jobs().jobs, list)
    assert client.request("GET", "/jobs", max_items=1, status="COMPLETED")["jobs"] is not None  # query signed too

    headers = client._headers("POST", api.url + "/uploads", b'{"key": "inbox/a.ipynb"}')
    response = urllib3.request(
        "POST", api.url + "/uploads", body=b'{"key": "inbox/evil.ipynb"}', headers=headers
    )  # the body is not the one signed
    assert response.status == 403
    assert "signature" in json.loads(response.data)["message"]


def test_wrong_credentials_and_tokens_are_refused(api, signing, monkeypatch):
    from shiftwork.client import ApiError, Client

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ApiError, match=r"403.*execute-api:Invoke"):
        Client(api.url).list_jobs()
    with pytest.raises(ApiError, match=r"401.*--token"):
        Client(api.url, token="wrong").list_jobs()
