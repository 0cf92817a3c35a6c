"""JupyterLab's Create Job form, driven as Jupyter Scheduler's user's guide has a user fill it, and what Shiftwork
stored of it: helpers of test_lab_browser (imported after its Chromium check)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from shiftwork.models import DescribeJob, DescribeJobDefinition

FORM_NOTEBOOK = "form_report.ipynb"
SECOND_KERNEL = "python3-second"  # a second kernel, so that the form shows its environment picker
STATUS_TIMEOUT_S = 90


def add_second_kernel(folder: Path) -> None:
    """A second kernel in the Jupyter data dir `jupyter_lab(folder)` uses: the server lists it, the runner need not."""
    spec = folder / "data" / "kernels" / SECOND_KERNEL / "kernel.json"
    spec.parent.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": "Python 3 (second)", "language": "python"}))


def open_create_form(page: Page) -> Locator:
    """The notebook's context menu in the file browser, "Create Job", as the user's guide shows; the form."""
    page.locator(".jp-DirListing-item", has_text=FORM_NOTEBOOK).click(button="right")
    page.get_by_role("menuitem", name="Create Job", exact=True).click()
    form = page.locator("form.jp-create-job-form")
    expect(form.get_by_role("heading", name="Create Job", exact=True)).to_be_visible()
    expect(form.get_by_label("Input file")).to_have_value(FORM_NOTEBOOK)
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
        box = form.get_by_label(unwanted, exact=True)
        if unwanted == "PDF" and shutil.which("xelatex") is None:
            expect(box).to_have_count(0)  # not offered where a job could not get it
            continue
        box.uncheck()
    form.get_by_label("HTML", exact=True).check()
    expect(form.get_by_label("Notebook", exact=True)).to_be_checked()
    form.get_by_role("button", name="Add new parameter").click()
    form.get_by_placeholder("Name", exact=True).fill(parameter[0])
    value = form.get_by_placeholder("Value", exact=True)
    value.fill(parameter[1])
    value.blur()  # the form checks a parameter when the user leaves its field


def schedule_daily(form: Locator, clock: str, timezone: str) -> None:
    """ "Run on a schedule", every day at `clock`, in `timezone` picked from the form's list."""
    form.get_by_label("Run on a schedule").check()
    form.get_by_label("Interval").click()
    form.page.get_by_role("option", name="Day", exact=True).click()
    form.get_by_label("Time", exact=True).fill(clock)
    zone = form.get_by_label("Time zone")
    zone.fill(timezone)
    form.page.get_by_role("option", name=timezone, exact=True).click()
    expect(zone).to_have_value(timezone)


def reload_until(page: Page, row: Locator, status: str, timeout: float = STATUS_TIMEOUT_S) -> None:
    """The jobs list's Reload, as a user clicks it, until the row shows `status` (bounded; an end short of it fails)."""
    deadline = time.monotonic() + timeout
    shown = row.locator("td").nth(4)
    while (now := shown.text_content()) != status:
        assert now not in ("Failed", "Stopped"), now
        assert time.monotonic() < deadline, f"still {now}"
        time.sleep(0.5)
        page.locator(".jp-notebook-jobs-panel").get_by_role("button", name="Reload", exact=True).click()
    expect(shown).to_have_text(status)


def shiftwork_jobs(name: str) -> list[DescribeJob]:
    """Shiftwork's notebook jobs of that name (the test shares the stack's environment)."""
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobsQuery

    return list(Service().iter_jobs(query=ListJobsQuery(name=name, kind="notebook")))


def shiftwork_definitions(name: str) -> list[DescribeJobDefinition]:
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobDefinitionsQuery

    return list(Service().definitions.list(query=ListJobDefinitionsQuery(name=name)).job_definitions)


def delete_made(names: list[str]) -> None:
    """The definitions (their schedules first) and jobs of those names."""
    from shiftwork.api.service import Service

    service = Service()
    for name in names:
        for definition in shiftwork_definitions(name):
            service.definitions.delete(definition.job_definition_id)
        for job in shiftwork_jobs(name):
            service.delete_job(job.job_id)
