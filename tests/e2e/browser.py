"""A small Playwright harness: Debian's headless Chromium on a running `shiftwork dashboard`, Streamlit widgets
found by their labels, screenshots kept as artifacts. Used by the browser tests and by docs/screenshots.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.e2e.conftest import Cli

CHROMIUM = Path("/usr/bin/chromium")  # Playwright's own browser download is not reachable: Debian's package
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 20_000  # one wait for a selector; a busy 2-core machine renders Streamlit slowly
ENV_ARTIFACTS = "SHIFTWORK_TEST_ARTIFACTS"


def chromium_missing() -> str | None:
    """Why no browser test can run here (None: it can)."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]'"
    return None


def require_chromium() -> None:
    """At a browser test module's top: skip it, saying why, where Chromium is missing; with $CI set, fail it."""
    import pytest

    missing = chromium_missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI runs the browser tests: {missing}", pytrace=False)
    if missing:
        pytest.skip(f"no headless Chromium: {missing}", allow_module_level=True)


def artifacts_dir(name: str) -> Path:
    """$SHIFTWORK_TEST_ARTIFACTS/name, default ./test-artifacts/name (gitignored), made empty."""
    folder = Path(os.environ.get(ENV_ARTIFACTS) or "test-artifacts") / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


class Screenshots:
    """Numbered full-page screenshots of each step, in one folder; each path is printed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def take(self, page: Page, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        screenshot(page, path)
        self.taken.append(path)
        print(f"screenshot: {path.resolve()}")
        return path


def screenshot(page: Page, path: Path, max_height: int = 4000) -> None:
    """The whole page, up to max_height pixels tall.

    Streamlit scrolls its main block inside a window-high container, so Playwright's full_page alone stops at the
    window: the window is made as tall as the content for the shot.
    """
    size = page.viewport_size or VIEWPORT
    content = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 0")
    height = min(max(int(content), size["height"]), max_height)
    try:
        if height != size["height"]:
            page.set_viewport_size({"width": size["width"], "height": height})
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)  # type: ignore[arg-type]


@contextmanager
def browser_page(viewport: dict[str, int] | None = None) -> Iterator[Page]:
    """A page in a fresh headless Chromium, closed with it."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # expect's own default is 5 s, whatever the page's timeout
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport=viewport or VIEWPORT)  # type: ignore[arg-type]
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def wait_for_script(page: Page) -> None:
    """Until Streamlit's script run is over (stApp says so), so a screenshot shows a settled page."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()


def open_page(page: Page, base_url: str, url_path: str = "") -> None:
    """Load a page and wait for its first run: the page's elements drawn and the script done."""
    page.goto(f"{base_url}/{url_path}")
    # before its first run the app is "notRunning" too, with an empty main block
    page.get_by_test_id("stMain").get_by_test_id("stElementContainer").first.wait_for()
    wait_for_script(page)


# what a chart or table has drawn once its JavaScript ran (Streamlit sends the data; the browser draws it later)
DRAWN = {"stGraphVizChart": "svg", "stVegaLiteChart": "canvas, svg", "stDataFrame": "canvas"}


def wait_for_drawing(page: Page) -> None:
    """Until every graph, chart and table on the page has drawn itself, so a screenshot shows them."""
    from playwright.sync_api import expect

    wait_for_script(page)
    # a fragment's first run (a self-refreshing table) shows skeletons until it has drawn its elements
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=TIMEOUT_MS)
    # elements keep arriving for a moment after the run (fragments, charts laid out): until the page stops growing
    page.wait_for_function(STILL_HEIGHT, polling=700)
    for test_id, drawn in DRAWN.items():
        for element in page.get_by_test_id(test_id).all():
            element.locator(drawn).first.wait_for()


STILL_HEIGHT = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const height = document.querySelector('[data-testid="stMain"]')?.scrollHeight ?? 0;
    const still = height > 0 && window.lastMainHeight === height && app?.dataset.testScriptState === "notRunning";
    window.lastMainHeight = height;
    return still;
}"""


def fill_text_input(page: Page, label: str, text: str) -> None:
    """Type into st.text_input(label) and press Enter: Streamlit commits a text input on Enter or blur."""
    field = page.get_by_test_id("stTextInput").filter(has=page.get_by_text(label, exact=True)).locator("input")
    field.fill(text)
    field.press("Enter")


def choose_option(page: Page, label: str, option: str, timeout_ms: float = TIMEOUT_MS) -> None:
    """Pick `option` in st.selectbox(label): a combobox, opened by a click, its options listed by text.

    The options may come from a rerun still under way (a text input just committed): until `option` is listed,
    close the list, let the run end, and open it again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    wanted = page.get_by_role("option", name=option, exact=True)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        wait_for_script(page)
        box.click()
        try:
            wanted.click(timeout=2_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")


def click_button(page: Page, label: str) -> None:
    page.get_by_test_id("stButton").get_by_role("button", name=label, exact=True).click()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read() == b"ok")
    except OSError:
        return False


@contextmanager
def running_dashboard(
    cli: Cli, *options: str, stop_with: int = signal.SIGINT, timeout: float = 60, **env: str
) -> Iterator[Dashboard]:
    """`shiftwork [options] dashboard --port P` over cli's state dir, once it serves; stopped by `stop_with` after
    (the test then reads its exit code from .process)."""
    from tests.e2e.conftest import output_of

    port = free_port()
    process = cli.start(*options, "dashboard", "--port", str(port), **env)
    dashboard = Dashboard(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + timeout
        while not healthy(dashboard.url):
            assert process.poll() is None, output_of(process)
            assert time.monotonic() < deadline, f"the dashboard never served:\n{output_of(process)}"
            time.sleep(0.2)
        yield dashboard
    finally:
        dashboard.stop(stop_with)


class Dashboard:
    """A `shiftwork dashboard` process and the URL it serves."""

    def __init__(self, url: str, process: subprocess.Popen[str]) -> None:
        self.url = url
        self.process = process

    def streamlit_pid(self) -> int:
        """The Streamlit server the command started (its only child)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> int:
        """Signal the command, as a user would, and wait for it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
