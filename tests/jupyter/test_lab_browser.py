"""JupyterLab's own Notebook Jobs panel in a real browser, over ShiftworkScheduler: headless Chromium (Playwright)
opens JupyterLab, shows a job that ran on the embedded stack as Completed and downloads its files into the Jupyter
root, shows a SKIPPED fire as Stopped saying why, lists job definitions (a cron one's schedule described), and shows
a rate() one's schedule as written, which JupyterLab's edit form cannot change; and JupyterLab's own Create Job form,
as the user's guide has a user fill it: run now, on a schedule in a time zone, and a parameter Shiftwork refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

from tests.jupyter import lab_form  # noqa: E402  (it needs playwright too)

JOB_NAME = "Lab browser report"
CRON_NAME = "Weekday mornings"
RATE_NAME = "Every quarter hour"
UI_TIMEOUT_MS = 30_000  # JupyterLab's first load on a busy 2-core machine
NOTIFICATION_SETTINGS = "/lab/api/settings/@jupyterlab/apputils-extension:notification"


@pytest.fixture(scope="module")
def lab(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """This module's JupyterLab: its server knows a second kernel, so that the Create Job form shows its environment
    picker, and its root has the notebook the form makes jobs of."""
    folder = tmp_path_factory.mktemp("jupyter")
    lab_form.add_second_kernel(folder)
    with jupyter_lab(folder) as server:
        write_notebook(server.root / lab_form.FORM_NOTEBOOK, "n = 1", "print('doubled', n * 2)")
        yield server


@pytest.fixture(scope="module")
def submitted(lab: JupyterServer) -> Iterator[dict[str, Any]]:
    """A notebook job run to COMPLETED through the REST API (given), and two definitions: a cron one from
    JupyterLab's side, a rate() one from Shiftwork's own Service (JupyterLab cannot make one); all deleted after,
    so their schedules never fire on the session's stack."""
    from shiftwork.api.service import Service
    from shiftwork.models import CreateJobDefinition

    notebook = write_notebook(lab.root / "lab_report.ipynb", "n = 1", "print(n * 2)")
    status, created = lab.call(
        "POST",
        "/scheduler/jobs",
        {
            "input_uri": notebook.name,
            "runtime_environment_name": "python3",
            "name": JOB_NAME,
            "parameters": {"n": "21"},
            "output_formats": ["ipynb", "html"],
        },
    )
    assert status == 200, (created, lab.output())
    job = wait_completed(lab, created["job_id"])
    status, cron = lab.call(
        "POST",
        "/scheduler/job_definitions",
        {
            "input_uri": notebook.name,
            "runtime_environment_name": "python3",
            "name": CRON_NAME,
            "output_formats": ["ipynb"],
            "schedule": "0 9 * * 1-5",
            "timezone": "Europe/London",
        },
    )
    assert status == 200, (cron, lab.output())
    rate = Service().definitions.create(
        CreateJobDefinition(input_uri=str(notebook), schedule="rate(15 minutes)", name=RATE_NAME, misfire_grace_time=60)
    )
    skipped = handled_late(rate)
    yield job
    for path in (
        f"/scheduler/job_definitions/{cron['job_definition_id']}",
        f"/scheduler/job_definitions/{rate.job_definition_id}",
        f"/scheduler/jobs/{job['job_id']}",
        f"/scheduler/jobs/{skipped.job_id}",
    ):
        assert lab.call("DELETE", path)[0] == 204, lab.output()


def handled_late(definition: DescribeJobDefinition) -> DescribeJob:
    """The definition's next fire as the dispatcher handles it an hour late: SKIPPED by its misfire_grace_time."""
    from shiftwork.dispatch.fire import handle_schedule_fired
    from shiftwork.launchers import default_launcher
    from shiftwork.schedules import trigger_from_dict

    assert definition.trigger is not None, definition
    scheduled = trigger_from_dict(definition.trigger, definition.timezone).next_fire(datetime.now(UTC))
    assert scheduled is not None, definition
    fired = {
        "job_definition_id": definition.job_definition_id,
        "scheduled_time": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution_id": "lab-browser",
    }
    job = handle_schedule_fired(fired, default_launcher(), now=scheduled + timedelta(hours=1))
    assert job is not None and job.status == "SKIPPED", job
    return job


def wait_completed(lab: JupyterServer, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, job = lab.call("GET", f"/scheduler/jobs/{job_id}")
        assert status == 200, (job, lab.output())
        if job["status"] in ("COMPLETED", "FAILED", "STOPPED"):
            assert job["status"] == "COMPLETED", (job, lab.output())
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}:\n{lab.output()}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def page(lab: JupyterServer, submitted: dict[str, Any]) -> Iterator[Page]:
    """JupyterLab open in headless Chromium, its launcher shown; no news prompt over the panel (a user setting)."""
    status, _ = lab.call("PUT", NOTIFICATION_SETTINGS, {"raw": '{"fetchNews": "false"}'})
    assert status == 204, lab.output()
    with browser_page() as opened:
        opened.set_default_timeout(UI_TIMEOUT_MS)
        opened.goto(f"{lab.url}/lab?token={lab.token}")
        yield opened


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where this module's screenshots are kept (emptied once, so each test's stay)."""
    return artifacts_dir("jupyterlab")


def open_jobs_panel(page: Page, tab: str = "Jobs") -> None:
    """The launcher's "Jobs" card, as a user opens the panel (it shows its list again if open), then a list's tab."""
    page.locator(".lm-DockPanel-tabBar [data-id^='launcher']").click()
    page.locator(".jp-LauncherCard[title=Jobs]").click()
    panel = page.locator(".jp-notebook-jobs-panel")
    panel.get_by_role("tab", name=tab, exact=True).click()
    expect(panel.get_by_role("heading", name=tab, exact=True)).to_be_visible()


def listed(page: Page, name: str) -> Locator:
    """The list's row for a job or definition, found by its name's link."""
    return page.locator("tr").filter(has=page.get_by_title(f'Open detail view for "{name}"', exact=True))


def test_jobs_panel_shows_the_completed_job_and_downloads_its_files(
    page: Page, lab: JupyterServer, submitted: dict[str, Any], shots: Path
) -> None:
    open_jobs_panel(page)
    row = listed(page, JOB_NAME)
    expect(row).to_contain_text("lab_report.ipynb")
    expect(row.locator("td").nth(4)).to_have_text("Completed")
    row.get_by_title(f'Download output files for "{JOB_NAME}"', exact=True).click()
    # the output notebook and HTML, named as Jupyter Scheduler names them, and the input notebook
    folder = lab.root / "jobs" / f"lab_report-{submitted['job_id']}"
    downloaded = wait_for_files(folder, ["lab_report-*.ipynb", "lab_report-*.html", "lab_report.ipynb"])
    ran = nbformat.read(downloaded["lab_report-*.ipynb"], as_version=4)
    printed = [output.get("text") for cell in ran.cells if cell.cell_type == "code" for output in cell.outputs]
    assert printed[-1:] == ["42\n"], f"the job's parameter n=21 is not what ran: {printed}"
    page.locator(".jp-notebook-jobs-panel").get_by_role("button", name="Reload", exact=True).click()
    # downloaded, the row links each file instead of offering the download
    for shown in ("Notebook", "HTML"):
        expect(row.get_by_text(shown, exact=True)).to_be_visible()
    page.mouse.move(700, 700)  # off the Reload button, so the kept picture shows no hover
    screenshot(page, shots / "jobs-list.png")


def test_job_detail_shows_its_status_and_parameters(page: Page) -> None:
    open_jobs_panel(page)
    listed(page, JOB_NAME).get_by_title(f'Open detail view for "{JOB_NAME}"', exact=True).click()
    detail = page.locator(".jp-notebook-jobs-panel")
    expect(detail.get_by_role("heading", name="Job Detail", exact=True)).to_be_visible()
    expect(field(detail, "Job name")).to_have_text(JOB_NAME)
    expect(field(detail, "Status")).to_have_text("Completed")
    expect(field(detail, "Environment")).to_have_text("python3")
    expect(field(detail, "Parameter name")).to_have_text("n")
    expect(field(detail, "Parameter value")).to_have_text("21")
    expect(detail.locator(".MuiAlert-root")).to_have_count(0)  # a status message shows as an error alert


def test_a_skipped_fire_shows_as_stopped_saying_why(page: Page, shots: Path) -> None:
    open_jobs_panel(page)
    row = listed(page, RATE_NAME)  # the definition's job, named after it
    expect(row.locator("td").nth(4)).to_have_text("Stopped")  # Jupyter Scheduler has no SKIPPED
    row.get_by_title(f'Open detail view for "{RATE_NAME}"', exact=True).click()
    detail = page.locator(".jp-notebook-jobs-panel")
    expect(field(detail, "Status")).to_have_text("Stopped")
    expect(detail.locator(".MuiAlert-message")).to_have_text(
        "skipped: missed start deadline: 3600 s late, misfire_grace_time is 60 s"
    )
    screenshot(page, shots / "skipped-job.png")


def wait_for_files(folder: Path, patterns: list[str], timeout: float = 30) -> dict[str, Path]:
    """Each pattern's one file under folder, once all are there and no longer growing (a process unpacks them)."""
    deadline, sizes = time.monotonic() + timeout, None
    while True:
        found = {pattern: sorted(folder.rglob(pattern)) for pattern in patterns}
        if all(found.values()):
            assert all(len(paths) == 1 for paths in found.values()), found
            now = [paths[0].stat().st_size for paths in found.values()]
            if now == sizes and all(now):
                return {pattern: paths[0] for pattern, paths in found.items()}
            sizes = now
        assert time.monotonic() < deadline, f"not downloaded into {folder}: {found}"
        time.sleep(0.25)


def test_definitions_tab_lists_cron_and_rate_definitions(page: Page, shots: Path) -> None:
    open_jobs_panel(page, "Job Definitions")
    cron, rate = listed(page, CRON_NAME), listed(page, RATE_NAME)
    expect(cron.locator("td").nth(3)).to_have_text("At 09:00 AM, Monday through Friday")
    expect(cron.locator("td").nth(4)).to_have_text("Active")
    # the list describes schedules with cronstrue: a rate() is left blank there rather than blank the whole list
    expect(rate.locator("td").nth(3)).to_have_text("")
    screenshot(page, shots / "definitions-list.png")
    rate.get_by_title(f'Open detail view for "{RATE_NAME}"', exact=True).click()
    detail = page.locator(".jp-notebook-jobs-panel")
    expect(detail.get_by_role("heading", name="Job Definition", exact=True)).to_be_visible()
    expect(field(detail, "Schedule")).to_have_text("rate(15 minutes)")
    expect(field(detail, "Time zone")).to_have_text("UTC")
    screenshot(page, shots / "rate-definition.png")


def field(detail: Locator, label: str) -> Locator:
    """A detail view's value, found by its label."""
    labelled = detail.locator(".jp-jobs-LabeledValue-label").get_by_text(label, exact=True)
    return labelled.locator("xpath=..").locator(".jp-jobs-LabeledValue-value")


def test_editing_the_rate_definition_says_how_to_change_it(page: Page, lab: JupyterServer, shots: Path) -> None:
    open_jobs_panel(page, "Job Definitions")
    listed(page, RATE_NAME).get_by_title(f'Open detail view for "{RATE_NAME}"', exact=True).click()
    page.get_by_role("button", name="Edit Job Definition", exact=True).click()
    cron = page.get_by_label("cron expression")
    expect(cron).to_have_value("rate(15 minutes)")
    save = page.get_by_role("button", name="Save Changes", exact=True)
    expect(save).to_be_disabled()  # JupyterLab's own form reads only cron
    cron.fill("0 9 * * *")
    save.click()
    refusal = page.locator(".jp-notebook-jobs-panel .MuiAlert-message")
    expect(refusal).to_contain_text("schedule 'rate(15 minutes)': is a Shiftwork schedule that plain cron cannot")
    expect(refusal).to_contain_text("shiftwork definitions update")
    screenshot(page, shots / "rate-definition-edit.png")
    status, definitions = lab.call("GET", "/scheduler/job_definitions")
    assert status == 200, definitions
    (unchanged,) = [d for d in definitions["job_definitions"] if d["name"] == RATE_NAME]
    _, detail = lab.call("GET", f"/scheduler/job_definitions/{unchanged['job_definition_id']}")
    assert detail["schedule"] == "rate(15 minutes)", detail


@pytest.fixture(scope="module")
def made() -> Iterator[list[str]]:
    """The names the Create Job form made jobs and definitions by; all deleted after, so that no schedule of theirs
    fires later in the session, even when a test failed half-way."""
    names: list[str] = []
    yield names
    lab_form.delete_made(names)


def test_create_job_form_runs_the_notebook_now_with_its_parameter(
    page: Page, lab: JupyterServer, made: list[str], shots: Path
) -> None:
    from shiftwork.api.service import Service

    name = "Form doubled"
    made.append(name)
    form = lab_form.open_create_form(page)
    lab_form.fill_form(form, name, ("n", "21"))
    expect(form.get_by_label("Run now")).to_be_checked()
    create = form.get_by_role("button", name="Create", exact=True)
    expect(create).to_be_enabled()
    page.set_viewport_size({"width": 1400, "height": 980})  # the whole form, Create included
    page.wait_for_timeout(300)  # MUI's 250 ms colour transition of the button, just enabled
    screenshot(page, shots / "create-job-form.png")
    page.set_viewport_size({"width": 1400, "height": 900})
    create.click()
    row = listed(page, name)  # the jobs list, as the form shows it after Create
    expect(row).to_contain_text(lab_form.FORM_NOTEBOOK)
    lab_form.reload_until(page, row, "Completed")
    (made_job,) = lab_form.shiftwork_jobs(name)
    job = Service().get_job(made_job.job_id)
    assert job.parameters == {"n": 21} and job.kernel_name == "python3", job
    assert sorted(job.output_formats) == ["html", "ipynb"], job
    files = Service().download_job_files(job.job_id, lab.root.parent / "form-job")
    (ran,) = [path for path in files if path.suffix == ".ipynb"]
    notebook = nbformat.read(ran, as_version=4)
    printed = [output.get("text") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert printed[-1:] == ["doubled 42\n"], f"the form's parameter n=21 is not what ran: {printed}"
    assert [path.suffix for path in files if path.suffix == ".html"] == [".html"], files


def test_create_job_form_on_a_schedule_makes_a_definition_that_runs(page: Page, made: list[str], shots: Path) -> None:
    from shiftwork.api.service import Service

    name = "Form every morning"
    made.append(name)
    form = lab_form.open_create_form(page)
    lab_form.fill_form(form, name, ("n", "5"))
    lab_form.schedule_daily(form, "06:30", "Europe/Paris")
    form.get_by_role("button", name="Create", exact=True).click()
    row = listed(page, name)  # the Job Definitions list, as the form shows it after Create
    expect(row.locator("td").nth(3)).to_have_text("At 06:30 AM")
    expect(row.locator("td").nth(4)).to_have_text("Active")
    (definition,) = lab_form.shiftwork_definitions(name)
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
    lab_form.reload_until(page, listed(page, name), "Completed")
    (ran,) = lab_form.shiftwork_jobs(name)
    assert ran.job_definition_id == definition.job_definition_id and ran.parameters == {"n": 5}, ran


def test_create_job_form_shows_shiftworks_refusal_and_nothing_is_made(
    page: Page, lab: JupyterServer, made: list[str]
) -> None:
    name = "Form bad parameter"
    made.append(name)
    form = lab_form.open_create_form(page)
    lab_form.fill_form(form, name, ("1x", "3"))
    form.get_by_role("button", name="Create", exact=True).click()  # the form itself asks only for a name and value
    refusal = form.locator(".MuiAlert-message")
    expect(refusal).to_contain_text("parameter name '1x': must be a Python identifier")
    expect(form.get_by_placeholder("Name", exact=True)).to_have_value("1x")  # the form kept, to be corrected
    assert lab_form.shiftwork_jobs(name) == [], lab.output()
    assert "400 POST /scheduler/jobs" in lab.output(), lab.output()  # the client's mistake, not the server's 500
