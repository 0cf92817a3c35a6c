"""SHIFTWORK.* on the session's embedded stack, over the add-in server: jobs really run, in a real kernel."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from shiftwork.excel.values import to_serial
from tests.excel.test_excel_http import _events, post
from tests.helpers import write_notebook

DESK_MODULE = "def prices(n):\n    return [{'day': i, 'price': 100 + 2 * i} for i in range(n)]\n"
DESK_SPEC = {
    "name": "desk",
    "function": "desk:flow",
    "module_file": "desk.py",
    "parameters": {"n": 3},
    "tasks": [{"name": "prices", "function": "desk:prices", "arguments": {"n": {"$param": "n"}}, "executor": "lambda"}],
}


@pytest.fixture(scope="module")
def definition(stack: object, tmp_path_factory):
    from shiftwork.api.service import Service
    from shiftwork.models import CreateJobDefinition

    folder = tmp_path_factory.mktemp("excel-definition")
    notebook = write_notebook(folder / "report.ipynb", "x = 1", "print('x is', x)")
    service = Service()
    made = service.definitions.create(
        CreateJobDefinition(input_uri=str(notebook), name="excel-report", max_running_jobs=20)
    )
    yield made
    service.definitions.delete(made.job_definition_id)


def cells(server, *calls):
    response = post(server, "/excel/call", {"calls": [{"function": f, "args": list(a)} for f, *a in calls]})
    assert response.status == 200
    return response.json()["results"]


def test_run_returns_the_job_and_the_same_inputs_give_the_same_job(excel_server, definition):
    from shiftwork.api.service import Service

    (first, again, by_id, other) = cells(
        excel_server,
        ("SHIFTWORK.RUN", "excel-report", "x", 2),
        ("SHIFTWORK.RUN", "excel-report", "x", 2),  # a recalculation of the same cell
        ("SHIFTWORK.RUN", definition.job_definition_id, "x", 2),
        ("SHIFTWORK.RUN", "excel-report", "x", 3),  # an input changed: a new run
    )
    assert first["error"] is None
    assert again["value"] == by_id["value"] == first["value"]
    assert other["value"] != first["value"]
    job = Service().wait_job(first["value"], timeout=120)
    assert job.status.value == "COMPLETED"
    assert job.parameters["x"] == 2 and isinstance(job.parameters["x"], int)  # Excel's 2 meant as 2, not 2.0
    Service().wait_job(other["value"], timeout=120)


def test_concurrent_recalculations_of_one_run_cell_make_exactly_one_job(excel_server, definition):
    """Eight clients (two workbooks open, a recalc storm) send the same RUN at once: one job, eight answers."""
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobsQuery

    answers: list[str] = []
    barrier = threading.Barrier(8)

    def recalculate() -> None:
        barrier.wait()
        (result,) = cells(excel_server, ("SHIFTWORK.RUN", "excel-report", "x", 41, "tag", "race"))
        answers.append(result["value"])

    threads = [threading.Thread(target=recalculate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 8 and len(set(answers)) == 1
    service = Service()
    made = [
        job
        for job in service.list_jobs(ListJobsQuery(job_definition_id=definition.job_definition_id, max_items=100)).jobs
        if job.parameters.get("x") == 41
    ]
    assert [job.job_id for job in made] == answers[:1]
    assert service.wait_job(answers[0], timeout=120).status.value == "COMPLETED"


def test_run_refuses_what_cannot_be_a_run_and_makes_nothing(excel_server, definition):
    (odd, bad_name, missing) = cells(
        excel_server,
        ("SHIFTWORK.RUN", "excel-report", "x"),
        ("SHIFTWORK.RUN", "excel-report", "not a name", 1),
        ("SHIFTWORK.RUN", "no-such-definition", "x", 1),
    )
    assert odd["error"] == {"code": "#VALUE!", "message": "parameters come in name, value pairs: 1 values were given"}
    assert "parameter name 'not a name' (argument 2): give an identifier" in bad_name["error"]["message"]
    assert missing["error"]["code"] == "#N/A" and "no-such-definition" in missing["error"]["message"]


def test_status_follows_a_job_to_its_end_then_the_stream_ends(excel_server, definition):
    (run,) = cells(excel_server, ("SHIFTWORK.RUN", "excel-report", "x", 7))
    response = post(excel_server, "/excel/stream", {"function": "SHIFTWORK.STATUS", "args": [run["value"]]})
    events = _events(response.data)
    statuses = [event["value"] for event in events if "value" in event]
    assert statuses[-1] == "COMPLETED"
    assert len(statuses) == len(set(statuses))  # each change once: a poll that sees no change sends nothing
    assert set(statuses) <= {"CREATED", "QUEUED", "IN_PROGRESS", "COMPLETED"}
    assert events[-1] == {"event": "end", "reason": "done"}
    (gone,) = cells(excel_server, ("SHIFTWORK.JOBS", "NOT_A_STATUS"))
    assert "status 'NOT_A_STATUS': give one of CREATED" in gone["error"]["message"]


def test_jobs_is_a_table_with_a_header_and_next_fires_are_date_serials(excel_server, definition):
    from shiftwork.api.service import Service

    (run,) = cells(excel_server, ("SHIFTWORK.RUN", "excel-report", "x", 8))
    Service().wait_job(run["value"], timeout=120)
    (table, fires, london) = cells(
        excel_server,
        ("SHIFTWORK.JOBS", "COMPLETED", 200),
        ("SHIFTWORK.NEXT_FIRES", "0 9 * * mon-fri"),
        ("SHIFTWORK.NEXT_FIRES", "0 9 * * mon-fri", "Europe/London", 3),
    )
    header, *rows = table["value"]
    assert header[:4] == ["Job ID", "Name", "Status", "Created (UTC)"]
    mine = next(row for row in rows if row[0] == run["value"])
    assert mine[1:3] == ["excel-report", "COMPLETED"]
    job = Service().get_job(run["value"])
    assert mine[3] == pytest.approx(to_serial(datetime.fromtimestamp(job.create_time / 1000, UTC)), abs=1e-6)
    assert len(fires["value"]) == 5 and all(len(row) == 1 for row in fires["value"])
    expected = Service().preview_schedule("0 9 * * mon-fri", "Europe/London", 3).fires
    assert [row[0] for row in london["value"]] == [to_serial(f.replace(tzinfo=None)) for f in expected]
    (bad,) = cells(excel_server, ("SHIFTWORK.NEXT_FIRES", "0 9 * *", "UTC", 3))
    assert bad["error"] == {
        "code": "#VALUE!",
        "message": "cron '0 9 * *': has 4 fields: give 5 (minute hour day month weekday) or 6 (seconds first)",
    }


def test_result_spills_a_workflow_tasks_records_as_a_table(excel_server, tmp_path):
    from shiftwork.api.service import Service
    from shiftwork.models.workflow import RunWorkflow

    (tmp_path / "desk.py").write_text(DESK_MODULE)
    service = Service()
    run = service.workflows.run(RunWorkflow.model_validate({"spec": DESK_SPEC}), {"desk.py": tmp_path / "desk.py"})
    assert service.wait_job(run.job_id, timeout=120).status.value == "COMPLETED"
    (table, missing, notebook_job) = cells(
        excel_server,
        ("SHIFTWORK.RESULT", run.job_id, "prices"),
        ("SHIFTWORK.RESULT", run.job_id, "nope"),
        ("SHIFTWORK.RESULT", "00000000-0000-4000-8000-000000000000", "prices"),
    )
    assert table["value"] == [["day", "price"], [0, 100], [1, 102], [2, 104]]
    assert missing["error"]["code"] == "#REF!" and "its tasks: prices" in missing["error"]["message"]
    assert notebook_job["error"]["code"] == "#N/A"
    assert json.dumps(table).count("Traceback") == 0


def test_the_same_functions_over_the_rest_client_as_serve_runs_them(excel_server, definition, tmp_path):
    """`shiftwork excel serve` beside `shiftwork up` calls up's REST API through a Client: the same answers."""
    from shiftwork.api.excel import shiftwork_addin
    from shiftwork.client import Client
    from shiftwork.excel.protocol import CallBatch, Registry, call_batch
    from shiftwork.local.http_api import HttpApi, api_token

    api = HttpApi(api_token(tmp_path)).start()
    try:
        registry = Registry([shiftwork_addin(Client(api.url, token=api.token))])
        calls = [
            {"function": "SHIFTWORK.RUN", "args": ["excel-report", "x", 5]},
            {"function": "SHIFTWORK.NEXT_FIRES", "args": ["rate(2 hours)", "UTC", 2]},
        ]
        (run, fires) = call_batch(registry, CallBatch.model_validate({"calls": calls})).results
    finally:
        api.stop()
    assert run.error is None and fires.error is None
    (over_service,) = cells(excel_server, ("SHIFTWORK.RUN", "excel-report", "x", 5))
    assert run.value == over_service["value"]  # one job, whichever facade asked
    assert len(fires.value) == 2
