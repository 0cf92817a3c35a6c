"""The Job page in AppTest over real notebook jobs (run once for the module in real kernels): fields, parameters, the
traceback of a failure, the executed notebook as HTML, logs followed while it runs; stop, delete, rerun."""

from __future__ import annotations

import time

import pytest

from dashboard import keys
from shiftwork.errors import NotFound
from shiftwork.models import CreateJob, Status
from tests.dashboard.jobs_support import make_job
from tests.functional.conftest import wait_for
from tests.helpers import write_notebook

SLOW_SECONDS = 5  # the slow notebook's pause between its two prints: long enough to look at it while it runs


@pytest.fixture(scope="module")
def ran(stack, tmp_path_factory):
    """Real jobs, submitted together: one with an HTML output, one notebook only, one that raises."""
    from shiftwork.api.service import Service

    folder = tmp_path_factory.mktemp("job-page")
    service = Service()

    def submit(name, *cells, **settings):
        notebook = write_notebook(folder / f"{name}.ipynb", "n = 1", *cells)
        return service.create_job(CreateJob(input_uri=str(notebook), **settings)).job_id

    greeting = "print('hello from the dashboard', n * 7)"
    ids = {
        "html": submit("greeting", greeting, parameters={"n": 3}, output_formats=["ipynb", "html"]),
        "ipynb": submit("plain", "print('converted by nbconvert', n + 1)"),
        "failed": submit("broken", "raise ValueError('the dashboard test notebook fails here')"),
    }
    for job_id in ids.values():
        service.wait_job(job_id, timeout=120)
    return {"service": service, "submit": submit, **ids}


def iframe_html(app):
    return [element.proto.srcdoc for element in app.get("iframe")]


def codes(app):
    return "\n".join(code.value for code in app.code)


def test_a_completed_job_shows_every_field_its_parameters_files_and_notebook(open_page, ran):
    from shiftwork.models import DescribeJob

    app = open_page("views/job.py", job=ran["html"])
    assert not app.exception, app.exception
    assert app.title[0].value == "greeting"
    assert app.metric[0].value == "COMPLETED"
    fields = app.dataframe[0].value
    assert list(fields["field"]) == list(DescribeJob.model_fields)
    assert dict(zip(fields["field"], fields["value"], strict=True))["job_id"] == ran["html"]
    parameters = app.dataframe[1].value
    assert (parameters["name"][0], parameters["value"][0]) == ("n", "3")
    files = app.dataframe[2].value
    assert {"greeting.ipynb", "greeting.html"} <= set(files["file"])
    assert all(url.startswith("http") for url in files["download"])
    assert any("hello from the dashboard 21" in html for html in iframe_html(app))
    assert "hello from the dashboard 21" in codes(app)  # the log


def test_a_notebook_without_html_output_is_rendered_with_nbconvert(open_page, ran):
    app = open_page("views/job.py", job=ran["ipynb"])
    assert not app.exception, app.exception
    (html,) = iframe_html(app)
    assert "converted by nbconvert 2" in html and "jp-Notebook" in html  # JupyterLab's classes: HTMLExporter's
    # the notebook's own scripts run in a sandbox without the dashboard's origin
    assert 'sandbox="allow-scripts allow-popups"' in html and "allow-same-origin" not in html


def test_a_failed_job_shows_its_error_and_traceback(open_page, ran):
    app = open_page("views/job.py", job=ran["failed"])
    assert not app.exception, app.exception
    assert app.error and "ValueError" in app.error[0].value
    traceback = app.code[0].value
    assert "ValueError" in traceback and "the dashboard test notebook fails here" in traceback


def test_logs_follow_a_running_job(open_page, ran):
    service = ran["service"]
    source = f"import time\nprint('first line', flush=True)\ntime.sleep({SLOW_SECONDS})\nprint('second line')"
    slow = ran["submit"]("slow", source)

    def printed_first():
        return any("first line" in e["message"] for e in service.job_logs(slow)[0])

    deadline = time.monotonic() + 60
    while not printed_first() and time.monotonic() < deadline:
        time.sleep(0.3)
    app = open_page("views/job.py", job=slow)
    assert not app.exception, app.exception
    if service.get_job(slow).is_terminal:
        pytest.fail("the slow job ended before the page saw it run: raise SLOW_SECONDS")
    assert "first line" in codes(app) and "second line" not in codes(app)
    assert not app.button(key=keys.JOB_STOP).disabled
    service.wait_job(slow, timeout=60)
    time.sleep(2.5)  # past the page's read cache
    app.run()
    assert "first line" in codes(app) and "second line" in codes(app)
    assert app.button(key=keys.JOB_STOP).disabled


def test_stop_from_the_page_reaches_moto(open_page, tmp_path):
    from shiftwork.store import jobs

    job = make_job(tmp_path, Status.IN_PROGRESS, name="running")
    app = open_page("views/job.py", job=job.job_id)
    app.button(key=keys.JOB_STOP).click().run()
    assert jobs.get(job.job_id).status == Status.STOPPING
    assert "Stop asked." in app.success[0].value


def test_delete_asks_first_then_removes_the_job(open_page, tmp_path):
    from shiftwork.store import jobs

    job = make_job(tmp_path, Status.COMPLETED, name="to-delete")
    app = open_page("views/job.py", job=job.job_id)
    app.button(key=keys.JOB_DELETE).click().run()
    assert jobs.get(job.job_id)
    app.button(key=keys.JOB_DELETE_CONFIRM).click().run()
    with pytest.raises(NotFound):
        jobs.get(job.job_id)
    assert app.title[0].value == "Jobs"


def test_rerun_makes_a_new_job_with_the_same_input_and_opens_it(open_page, ran):
    app = open_page("views/job.py", job=ran["ipynb"])
    app.button(key=keys.JOB_RERUN).click().run()
    assert not app.exception, app.exception
    new_id = app.query_params[keys.JOB_PARAM]
    assert new_id != ran["ipynb"] and app.title[0].value == "plain"
    done = ran["service"].wait_job(new_id, timeout=120)
    assert done.status == Status.COMPLETED

    # its printed line reaches the logs soon after its end (the log pump flushes last): the same input ran again
    def printed() -> str:
        return " ".join(e["message"] for e in ran["service"].job_logs(new_id)[0])

    wait_for(lambda: "converted by nbconvert 2" in printed(), timeout=30)


def test_a_workflow_runs_job_links_to_its_run_page(open_page, tmp_path):
    job = make_job(tmp_path, Status.COMPLETED, name="flow", kind="workflow")
    app = open_page("views/job.py", job=job.job_id)
    (link,) = [link for link in app.get("page_link") if "run" in link.proto.label]
    assert link.proto.query_string == f"run={job.job_id}"
    assert app.button(key=keys.JOB_RERUN).disabled


def test_over_the_client_the_page_shows_the_notebook_logs_and_traceback(open_remote_page, ran):
    app = open_remote_page("views/job.py", job=ran["html"])
    assert not app.exception, app.exception
    assert any("hello from the dashboard 21" in html for html in iframe_html(app))
    assert "hello from the dashboard 21" in codes(app)
    failed = open_remote_page("views/job.py", job=ran["failed"])
    assert "the dashboard test notebook fails here" in failed.code[0].value


def test_an_unknown_job_says_so(open_page):
    app = open_page("views/job.py", job="00000000-0000-4000-8000-000000000000")
    assert not app.exception, app.exception
    assert "00000000-0000-4000-8000-000000000000" in app.warning[0].value
