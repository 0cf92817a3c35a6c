"""The definition detail page: its schedule and next fires, its jobs (paged, each a link to its page), its versions;
a workflow definition's tasks as a graph."""

from __future__ import annotations

import contextlib
import uuid

import pytest

from dashboard.helpers.definitions import fire_text
from dashboard.views import definition as page
from shiftwork.models import CreateJobDefinition, Status, UpdateJobDefinition
from tests.helpers import write_notebook

PAGE = "views/definition.py"


@pytest.fixture(scope="module")
def made(stack, tmp_path_factory):
    """A definition at version 2 with 27 jobs (written straight to the store: nothing runs), 14 of each version."""
    from shiftwork.api.service import Service
    from shiftwork.store import jobs

    service = Service()
    notebook = write_notebook(tmp_path_factory.mktemp("def") / "weekly.ipynb", "n = 1", "print(n)")
    definition = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), name=f"def-page-{uuid.uuid4().hex[:6]}", schedule="0 6 * * mon")
    )
    definition = service.definitions.update(
        definition.job_definition_id, UpdateJobDefinition(schedule="0 7 * * tue", parameters={"n": 2})
    )
    made_jobs = []
    for index in range(page.JOBS_PAGE + 2):
        job = jobs.draft(
            str(uuid.uuid4()),
            name=f"weekly-{index}",
            status=Status.COMPLETED,
            input_filename="weekly.ipynb",
            job_definition_id=definition.job_definition_id,
            job_definition_version=1 + index % 2,
        )
        made_jobs.append(jobs.put_new(job.model_copy(update={"create_time": job.create_time + index})))
    yield definition, made_jobs
    with contextlib.suppress(Exception):
        service.definitions.delete(definition.job_definition_id)


def test_it_shows_the_schedule_its_next_fires_jobs_and_versions(open_page, made):
    from shiftwork.api.service import Service

    definition, made_jobs = made
    app = open_page(PAGE, definition=definition.job_definition_id)
    assert not app.exception, app.exception
    assert app.title[0].value == definition.name
    preview = Service().preview_schedule("0 7 * * tue", "UTC", count=5)
    text = " ".join(m.value for m in app.markdown)
    assert preview.in_words in text and " · ".join(fire_text(f, "UTC") for f in preview.fires) in text

    listed, versions = app.dataframe[0].value, app.dataframe[1].value
    newest = sorted(made_jobs, key=lambda j: j.create_time, reverse=True)[: page.JOBS_PAGE]
    assert list(listed["name"]) == [j.name for j in newest]
    assert listed.iloc[0]["open"] == f"job?job={newest[0].job_id}"
    assert list(versions["version"]) == [2, 1] and list(versions["schedule"]) == ["0 7 * * tue", "0 6 * * mon"]

    app = app.button(key=page.NEXT).click().run()
    older = sorted(made_jobs, key=lambda j: j.create_time, reverse=True)[page.JOBS_PAGE :]
    assert list(app.dataframe[0].value["name"]) == [j.name for j in older]
    assert app.button(key=page.NEXT).disabled


def test_over_the_api_too(open_remote_page, made):
    definition, _ = made
    app = open_remote_page(PAGE, definition=definition.job_definition_id)
    assert not app.exception, app.exception
    assert list(app.dataframe[1].value["version"]) == [2, 1]


def test_an_unknown_or_missing_definition_says_so(open_page):
    app = open_page(PAGE, definition="no-such-definition")
    assert not app.exception and "not found" in app.error[0].value
    assert "Pick a definition" in open_page(PAGE).info[0].value


def test_a_workflow_definition_shows_its_tasks_as_a_graph(open_page, stack, tmp_path):
    from shiftwork.api.service import Service
    from shiftwork.api.workflows import WorkflowCode
    from shiftwork.models.workflow import TaskSpec, WorkflowSpec

    (tmp_path / "flow.py").write_text("def extract():\n    return 1\n\ndef load(rows):\n    return rows\n")
    spec = WorkflowSpec(
        name="dash-flow",
        function="flow:flow",
        module_file="flow.py",
        tasks=[
            TaskSpec(name="extract", function="flow:extract"),
            TaskSpec(name="load", function="flow:load", arguments={"rows": {"$ref": "extract"}}),
        ],
    )
    service = Service()
    request = CreateJobDefinition(input_uri=str(tmp_path / "flow.py"), name=f"dash-flow-{uuid.uuid4().hex[:6]}")
    deployed = service.workflows.deploy(request, WorkflowCode(spec, {"flow.py": tmp_path / "flow.py"}))
    try:
        app = open_page(PAGE, definition=deployed.job_definition_id)
        assert not app.exception, app.exception
        graph = app.get("graphviz_chart")[0]
        assert '"extract" -> "load";' in graph.proto.spec
        assert list(app.dataframe[0].value["task"]) == ["extract", "load"]
    finally:
        service.definitions.delete(deployed.job_definition_id)
