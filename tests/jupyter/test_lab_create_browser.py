"""JupyterLab's own Create Job form over ShiftworkScheduler, as Jupyter Scheduler's user's guide has a user fill it:
right-click a notebook in the file browser, "Create Job", name it, pick its environment, tick HTML, add a
parameter, then Create: run now (the job completes with the parameter used) or on a schedule in a time zone (a
definition with its EventBridge schedule, run once from its page); a parameter name Shiftwork refuses is shown in
the form and makes nothing."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest

from tests.e2e.browser import artifacts_dir, browser_page, require_chromium, screenshot
from tests.helpers import write_notebook
from tests.jupyter.server import jupyter_lab

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from shiftwork.models import DescribeJob, DescribeJobDefinition
    from tests.jupyter.server import JupyterServer

pytestmark = pytest.mark.e2e

require_chromium()

from playwright.sync_api import expect  # noqa: E402  (after the skip: a machine without playwright skips)

NOTEBOOK = "form_report.ipynb"
SECOND_KERNEL = "python3-second"  # a second kernel, so that the form shows its environment picker
UI_TIMEOUT_MS = 30_000  # JupyterLab's first load on a busy 2-core machine
NOTIFICATION_SETTINGS = "/lab/api/settings/@jupyterlab/apputils-extension:notification"


@pytest.fixture(scope="module")
def lab(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """JupyterLab over ShiftworkScheduler, its server knowing a second kernel (only the form needs it) and a
    parameterised notebook in its root."""
    folder = tmp_path_factory.mktemp("jupyter-create")
    spec = folder / "data" / "kernels" / SECOND_KERNEL / "kernel.json"
    spec.parent.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": "Python 3 (second)", "language": "python"}))
    with jupyter_lab(folder) as server:
        write_notebook(server.root / NOTEBOOK, "n = 1", "print('doubled', n * 2)")
        yield server


@pytest.fixture(scope="module")
def page(lab: JupyterServer) -> Iterator[Page]:
    """JupyterLab open in headless Chromium, its file browser listing the notebook; no news prompt (a setting)."""
    status, _ = lab.call("PUT", NOTIFICATION_SETTINGS, {"raw": '{"fetchNews": "false"}'})
    assert status == 204, lab.output()
    with browser_page() as opened:
        opened.set_default_timeout(UI_TIMEOUT_MS)
        opened.goto(f"{lab.url}/lab?token={lab.token}")
        yield opened


@pytest.fixture(scope="module")
def made() -> Iterator[list[str]]:
    """The names this module's forms create; their definitions and jobs deleted after, so that no schedule of theirs
    fires later in the session, even when a test failed half-way."""
    from shiftwork.api.service import Service

    names: list[str] = []
    yield names
    service = Service()
    for name in names:
        for definition in shiftwork_definitions(name):
            service.definitions.delete(definition.job_definition_id)
        for job in shiftwork_jobs(name):
            service.delete_job(job.job_id)


@pytest.fixture(scope="module")
def shots() -> Path:
    return artifacts_dir("jupyterlab-create")


def open_create_form(page: Page) -> Locator:
    """The notebook's context menu in the file browser, "Create Job", as the user's guide shows; the form."""
    page.locator(".jp-DirListing-item", has_text=NOTEBOOK).click(button="right")
    page.get_by_role("menuitem", name="Create Job", exact=True).click()
    form = page.locator("form.jp-create-job-form")
    expect(form.get_by_role("heading", name="Create Job", exact=True)).to_be_visible()
    expect(form.get_by_label("Input file")).to_have_value(NOTEBOOK)
    return form


def fill_form(form: Locator, name: str, parameter: tuple[str, str]) -> None:
    """Job name, environment, the notebook and HTML only (the form ticks every format), one parameter."""
    form.get_by_label("Job name").fill(name)
    environment = form.get_by_label("Environment")
    expect(environment).to_have_text("python3")  # the first environment, chosen for the user
    environment.click()
    form.page.get_by_role("option", name="python3", exact=True).click()
    expect(environment).to_have_text("python3")
    for unwanted in ("Markdown", "Script", "LaTeX", "PDF"):
        form.get_by_label(unwanted, exact=True).uncheck()
    form.get_by_label("HTML", exact=True).check()
    expect(form.get_by_label("Notebook", exact=True)).to_be_checked()
    form.get_by_role("button", name="Add new parameter").click()
    form.get_by_placeholder("Name", exact=True).fill(parameter[0])
    value = form.get_by_placeholder("Value", exact=True)
    value.fill(parameter[1])
    value.blur()  # the form checks a parameter when the user leaves its field


def shiftwork_jobs(name: str) -> list[DescribeJob]:
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobsQuery

    return list(Service().iter_jobs(query=ListJobsQuery(name=name, kind="notebook")))


def shiftwork_definitions(name: str) -> list[DescribeJobDefinition]:
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobDefinitionsQuery

    return list(Service().definitions.list(query=ListJobDefinitionsQuery(name=name)).job_definitions)


def reload_until(page: Page, row: Locator, status: str, timeout: float = 90) -> None:
    """The jobs list's Reload, as a user clicks it, until the row shows `status` (bounded)."""
    deadline = time.monotonic() + timeout
    shown = row.locator("td").nth(4)
    while shown.text_content(timeout=UI_TIMEOUT_MS) != status:
        assert shown.text_content() not in ("Failed", "Stopped"), shown.text_content()
        assert time.monotonic() < deadline, f"still {shown.text_content()}"
        time.sleep(0.5)
        page.locator(".jp-notebook-jobs-panel").get_by_role("button", name="Reload", exact=True).click()
    expect(shown).to_have_text(status)


def listed(page: Page, name: str) -> Locator:
    return page.locator("tr").filter(has=page.get_by_title(f'Open detail view for "{name}"', exact=True))


def test_create_job_runs_now_with_its_parameter_and_html(
    page: Page, lab: JupyterServer, made: list[str], shots: Path
) -> None:
    from shiftwork.api.service import Service

    name = "Form doubled"
    made.append(name)
    form = open_create_form(page)
    fill_form(form, name, ("n", "21"))
    expect(form.get_by_label("Run now")).to_be_checked()
    create = form.get_by_role("button", name="Create", exact=True)
    expect(create).to_be_enabled()
    screenshot(page, shots / "create-job-form.png")
    create.click()
    row = listed(page, name)
    expect(row).to_contain_text(NOTEBOOK)
    reload_until(page, row, "Completed")
    (made,) = shiftwork_jobs(name)
    job = Service().get_job(made.job_id)
    assert job.parameters == {"n": 21} and job.kernel_name == "python3", job
    assert sorted(job.output_formats) == ["html", "ipynb"], job
    ran = Service().download_job_files(job.job_id, lab.root.parent / "downloaded")
    (notebook,) = [path for path in ran if path.suffix == ".ipynb"]
    outputs = [
        o.get("text") for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code" for o in c.outputs
    ]
    assert "doubled 42\n" in outputs, outputs
    assert any(path.suffix == ".html" for path in ran), ran


def test_create_job_on_a_schedule_makes_a_definition_that_runs(
    page: Page, lab: JupyterServer, made: list[str], shots: Path
) -> None:
    from shiftwork.api.service import Service

    name = "Form every morning"
    made.append(name)
    form = open_create_form(page)
    fill_form(form, name, ("n", "5"))
    form.get_by_label("Run on a schedule").check()
    form.get_by_label("Interval").click()
    page.get_by_role("option", name="Day", exact=True).click()
    form.get_by_label("Time", exact=True).fill("06:30")
    zone = form.get_by_label("Time zone")
    zone.fill("Europe/Paris")
    page.get_by_role("option", name="Europe/Paris", exact=True).click()
    expect(zone).to_have_value("Europe/Paris")
    form.get_by_role("button", name="Create", exact=True).click()
    row = listed(page, name)  # the Job Definitions tab, as the form shows it after Create
    expect(row.locator("td").nth(3)).to_have_text("At 06:30 AM")
    expect(row.locator("td").nth(4)).to_have_text("Active")
    (definition,) = shiftwork_definitions(name)
    stored = Service().definitions.get(definition.job_definition_id)
    assert (stored.schedule, stored.timezone) == ("30 6 * * *", "Europe/Paris"), stored
    assert stored.parameters == {"n": 5} and sorted(stored.output_formats) == ["html", "ipynb"], stored
    (compiled,) = stored.compiled
    assert compiled["expression"] == "cron(30 6 * * ? *)" and compiled["timezone"] == "Europe/Paris", compiled
    row.get_by_title(f'Open detail view for "{name}"', exact=True).click()
    detail = page.locator(".jp-notebook-jobs-panel")
    expect(field(detail, "Schedule")).to_have_text("30 6 * * *")
    expect(field(detail, "Time zone")).to_have_text("Europe/Paris")
    screenshot(page, shots / "created-definition.png")
    detail.get_by_role("button", name="Run Job", exact=True).click()
    expect(detail.get_by_role("heading", name="Create Job from Job Definition")).to_be_visible()
    detail.get_by_role("button", name="Create", exact=True).click()
    reload_until(page, listed(page, name), "Completed")
    (ran,) = [job for job in shiftwork_jobs(name) if job.job_definition_id == definition.job_definition_id]
    assert ran.parameters == {"n": 5}, ran


def field(detail: Locator, label: str) -> Locator:
    """A detail view's value, found by its label."""
    labelled = detail.locator(".jp-jobs-LabeledValue-label").get_by_text(label, exact=True)
    return labelled.locator("xpath=..").locator(".jp-jobs-LabeledValue-value")


def test_a_parameter_name_shiftwork_refuses_is_shown_in_the_form_and_makes_nothing(
    page: Page, lab: JupyterServer, made: list[str]
) -> None:
    name = "Form bad parameter"
    made.append(name)
    form = open_create_form(page)
    fill_form(form, name, ("1x", "3"))
    form.get_by_role("button", name="Create", exact=True).click()  # the form only asks for a name and a value
    refusal = form.locator(".MuiAlert-message")
    expect(refusal).to_contain_text("parameter name '1x'")
    expect(refusal).to_contain_text("Python identifier")
    expect(form.get_by_placeholder("Name", exact=True)).to_have_value("1x")  # the form kept, to be corrected
    assert shiftwork_jobs(name) == [], lab.output()
    assert "400 POST /scheduler/jobs" in lab.output(), lab.output()  # the client's mistake, not the server's 500
