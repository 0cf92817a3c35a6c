"""The dashboard in a real browser: headless Chromium (Playwright) on `shiftwork dashboard` over a running
`shiftwork up` finds a job by name on the Jobs page, opens it, and sees its executed notebook rendered."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.browser import (
    Screenshots,
    artifacts_dir,
    browser_page,
    choose_option,
    click_button,
    fill_text_input,
    open_page,
    require_chromium,
    running_dashboard,
    wait_for_script,
)
from tests.e2e.conftest import Cli, wait_for_status
from tests.helpers import write_notebook

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Page

    from tests.e2e.browser import Dashboard

pytestmark = pytest.mark.e2e

require_chromium()

from playwright.sync_api import expect  # noqa: E402  (after the skip: a machine without playwright skips)

MARKER = f"rendered-by-the-kernel-{os.getpid()}-{time.time_ns()}"


@pytest.fixture(scope="module")
def submitted(up_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A notebook job made through `up` that prints MARKER; submitted first, so it runs while Streamlit starts."""
    folder: Path = tmp_path_factory.mktemp("notebooks")
    notebook = write_notebook(folder / "marker.ipynb", "who = 'browser'", f"print('{MARKER}', who)")
    name = f"browser-{time.time_ns()}"
    job = up_cli.json("run", str(notebook), "--name", name, "--format", "ipynb", "--format", "html")
    return dict(job)


@pytest.fixture(scope="module")
def dashboard(up_cli: Cli, submitted: dict[str, Any]) -> Iterator[Dashboard]:
    with running_dashboard(up_cli) as running:
        yield running
    assert running.process.returncode == 0, "Ctrl-C did not stop the dashboard cleanly"


@pytest.fixture
def page() -> Iterator[Page]:
    with browser_page() as opened:
        yield opened


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(artifacts_dir(f"dashboard-browser/{request.node.name}"))


def test_the_dashboard_loads_in_chromium_with_its_pages(dashboard: Dashboard, page: Page, shots: Screenshots):
    open_page(page, dashboard.url)
    navigation = page.get_by_test_id("stSidebarNav")
    for title in ("Overview", "Jobs", "Workflow runs", "Definitions", "Create"):
        expect(navigation.get_by_role("link", name=title, exact=True)).to_be_visible()
    shots.take(page, "first-page")
    assert all(path.stat().st_size > 10_000 for path in shots.taken)


def test_a_job_found_by_name_opens_with_its_rendered_notebook(
    up_cli: Cli, submitted: dict[str, Any], dashboard: Dashboard, page: Page, shots: Screenshots
):
    job = wait_for_status(up_cli, submitted["job_id"], {"COMPLETED", "FAILED"})
    assert job["status"] == "COMPLETED", job["status_message"]
    name, option = job["name"], f"{job['name']} · {job['job_id'][:8]}"

    open_page(page, dashboard.url)  # Jobs is the default page: "/" (its url_path, /jobs, is not served)
    shots.take(page, "jobs")
    fill_text_input(page, "Name starts with", name)
    choose_option(page, "Open a job", option)
    wait_for_script(page)
    shots.take(page, "job-chosen")
    click_button(page, "Open")

    expect(page).to_have_url(re.compile(rf"/job\?job={job['job_id']}"))
    expect(page.get_by_test_id("stHeading").filter(has_text=name).first).to_be_visible()
    # the notebook sits in a sandboxed iframe inside Streamlit's component iframe
    notebook = page.frame_locator('[data-testid="stIFrame"]').first.frame_locator("iframe")
    expect(notebook.get_by_text(f"{MARKER} browser")).to_be_visible()
    wait_for_script(page)
    shots.take(page, "job-detail")
