"""What the dashboard reads beyond jobs and definitions, through the Client over a real socket and through the
Service alike: the runtime environments, the inbox (listed, fetched, keys kept under inbox/), a definition's
versions."""

from __future__ import annotations

import json

import pytest
import urllib3

from shiftwork.errors import InvalidSpec, NotFound
from tests.helpers import write_notebook


@pytest.fixture(scope="module")
def client(api):
    from shiftwork.client import Client

    return Client(api.url, token=api.token)


@pytest.fixture(params=["service", "client"])
def front(request, service, client):
    """The Service and the Client: each test checks they answer alike."""
    return service if request.param == "service" else client


def test_runtime_environments_name_the_installed_kernels_and_the_formats_a_job_can_get(front):
    import shutil

    from shiftwork.models import OUTPUT_FORMATS
    from shiftwork.runner.kernels import installed_kernels

    environments = front.runtime_environments()
    assert [e.name for e in environments] == list(installed_kernels())
    assert "python3" in [e.name for e in environments]
    makeable = [name for name, spec in OUTPUT_FORMATS.items() if not spec.requires or shutil.which(spec.requires)]
    assert [f.name for f in environments[0].output_formats] == makeable  # pdf only where xelatex is
    assert makeable[:5] == ["ipynb", "html", "markdown", "script", "latex"]


@pytest.fixture(scope="module")
def inbox_keys(stack, tmp_path_factory):
    """Three notebooks and a CSV under inbox/ (put straight into S3: the upload path would run each one)."""
    from shiftwork import aws
    from shiftwork.config import get_settings

    settings = get_settings()
    folder = tmp_path_factory.mktemp("inbox")
    keys = []
    for index in range(3):
        notebook = write_notebook(folder / f"nb{index}.ipynb", f"n = {index}", "print(n)")
        key = f"inbox/facade-test/nb{index}.ipynb"
        aws.client("s3", settings).put_object(Bucket=settings.bucket, Key=key, Body=notebook.read_bytes())
        keys.append(key)
    aws.client("s3", settings).put_object(Bucket=settings.bucket, Key="inbox/facade-test/data.csv", Body=b"a,b\n")
    return keys


def test_the_inbox_lists_its_notebooks_page_by_page_and_fetches_one(front, inbox_keys, tmp_path):
    seen, token = [], None
    for _ in range(50):  # other tests' notebooks may be in the session's inbox too
        page = front.inbox(max_items=2, next_token=token)
        assert len(page.notebooks) <= 2
        seen += page.notebooks
        token = page.next_token
        if token is None:
            break
    found = {n.key: n for n in seen}
    assert set(inbox_keys) <= set(found) and "inbox/facade-test/data.csv" not in found
    assert found[inbox_keys[1]].size > 0 and found[inbox_keys[1]].last_modified.tzinfo is not None

    fetched = front.fetch_inbox(inbox_keys[1], tmp_path / "in")
    assert fetched == tmp_path / "in" / "nb1.ipynb"
    assert "".join(json.loads(fetched.read_text())["cells"][0]["source"]) == "n = 1"


@pytest.mark.parametrize(
    "key", ["jobs/x/input/a.ipynb", "inbox/../jobs/a.ipynb", "/inbox/a.ipynb", "inbox//a.ipynb", "inbox/a.csv"]
)
def test_keys_outside_the_inbox_are_refused_naming_the_key(front, key, tmp_path):
    with pytest.raises(InvalidSpec) as refused:
        front.fetch_inbox(key, tmp_path)
    assert refused.value.field == "key" and "inbox/" in str(refused.value)
    assert not list(tmp_path.iterdir())


def test_the_api_answers_a_bad_inbox_key_with_400_and_a_missing_one_with_404(api, client, tmp_path):
    http = urllib3.PoolManager()
    headers = {"Authorization": f"Bearer {api.token}"}
    bad = http.request("GET", f"{api.url}/inbox/download_url?key=jobs%2Fa.ipynb", headers=headers)
    assert bad.status == 400 and json.loads(bad.data)["field"] == "key"
    with pytest.raises(NotFound):
        client.fetch_inbox("inbox/facade-test/never-there.ipynb", tmp_path)
    token = http.request("GET", f"{api.url}/inbox?next_token=not-a-token", headers=headers)
    assert token.status == 400, token.data


def test_every_version_of_a_definition_is_listed_newest_first(front, tmp_path):
    from shiftwork.models import CreateJobDefinition, UpdateJobDefinition

    notebook = write_notebook(tmp_path / "versions.ipynb", "n = 1", "print(n)")
    created = front.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), schedule="0 7 * * *", name="versions", parameters={"n": 1})
    )
    try:
        front.definitions.update(created.job_definition_id, UpdateJobDefinition(schedule="30 8 * * *"))
        front.definitions.update(created.job_definition_id, UpdateJobDefinition(parameters={"n": 3}))
        front.definitions.pause(created.job_definition_id)  # a pause is not a version
        versions = front.definitions.versions(created.job_definition_id)
        assert [v.version for v in versions] == [3, 2, 1]
        assert [v.schedule for v in versions] == ["30 8 * * *", "30 8 * * *", "0 7 * * *"]
        assert [v.parameters for v in versions] == [{"n": 3}, {"n": 1}, {"n": 1}]
    finally:
        front.definitions.delete(created.job_definition_id)
    with pytest.raises(NotFound):
        front.definitions.versions(created.job_definition_id)
