"""The Office.js add-in's page in a real browser: headless Chromium (Playwright) opens the task pane `excel serve`
serves, signs in with the token, tests the connection, and runs a custom function and a streaming one through
the generated functions.js and the runtime (real fetch, real ReadableStream), as Excel's shared runtime would.

Office's office.js comes from Microsoft's CDN, which this machine cannot reach: the page is written to work
without it (outside Excel there is no CustomFunctions), so what runs here is everything but Excel itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browser import Screenshots, artifacts_dir, browser_page, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

require_chromium()

from playwright.sync_api import expect  # noqa: E402  (after the skip: a machine without playwright skips)


@pytest.fixture(scope="module")
def page(excel_server) -> Iterator[Page]:
    if excel_server.static_dir is None:
        pytest.fail(f"the Office.js add-in was not built: {getattr(excel_server, 'static_error', '?')}")
    with browser_page(viewport={"width": 420, "height": 900}) as opened:  # a task pane's width
        opened.route("https://appsforoffice.microsoft.com/**", lambda route: route.abort())
        opened.goto(f"{excel_server.url}/addins/pricer/taskpane.html")
        yield opened


@pytest.fixture(scope="module")
def shots() -> Screenshots:
    return Screenshots(artifacts_dir("excel-taskpane"))


def test_the_task_pane_signs_in_with_the_token_and_lists_the_functions(page, excel_server, shots):
    expect(page.locator("#endpoint")).to_have_value(excel_server.url)  # the page's own server, by default
    page.click("#connect")
    expect(page.locator("#mode")).to_contain_text("paste the token `shiftwork excel serve` printed")
    expect(page.locator("#token-form")).to_be_visible()
    shots.take(page, "connect")
    page.fill("#token", "not-the-token")
    page.click("#save-token")
    expect(page.locator("#status")).to_contain_text("sign in in the Shiftwork task pane")
    page.fill("#token", excel_server.token)
    page.click("#save-token")
    expect(page.locator("#status")).to_contain_text(f"Connected to {excel_server.url}")
    expect(page.locator("#status")).to_contain_text("(PRICER, SHIFTWORK)")
    functions = page.locator("#functions li code")
    expect(functions.first).to_be_visible()
    shown = functions.all_inner_texts()
    assert "=PRICER.PRICE_OPTION(spot, strike, vol, rate, expiry, [call])" in shown
    assert "=SHIFTWORK.STATUS(job) (streams)" in shown  # innerText folds the two spaces
    shots.take(page, "signed-in")


def test_a_custom_function_and_a_streaming_one_run_in_the_browser(page, pricer_module):
    """After the sign-in above: the generated functions called as Excel calls them, on the page's one runtime."""
    price = page.evaluate("() => PRICER$PRICE_OPTION(100, 95, 0.2, 0.01, 1)")
    assert price == pytest.approx(pricer_module.price_option(100, 95, 0.2, 0.01, 1))
    prices = page.evaluate(
        "() => Promise.all([90, 100, 110].map((spot) => PRICER$PRICE_OPTION(spot, 95, 0.2, 0.01, 1)))"
    )
    assert prices == [pytest.approx(pricer_module.price_option(s, 95, 0.2, 0.01, 1)) for s in (90, 100, 110)]
    refused = page.evaluate("() => PRICER$PRICE_OPTION('x', 95, 0.2, 0.01, 1).then(() => null, (e) => e.message)")
    assert refused == "spot is the text 'x': give a number"
    ticks = page.evaluate(
        """() => new Promise((resolve) => {
            const values = [];
            const invocation = {
              setResult(value) {
                values.push(value);
                if (values.length === 3) { invocation.onCanceled(); resolve(values); }
              },
            };
            PRICER$TICKER(100, 0.2, 0.05, invocation);
        })"""
    )
    assert ticks[0] == 100.0 and len(ticks) == 3 and len(set(ticks)) == 3
