"""The app routes every page, and each page renders without an exception on an empty or busy stack."""

from __future__ import annotations

import pytest

PAGES = ["overview", "jobs", "runs", "definitions", "create", "job", "run", "definition"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_exception(open_page, page):
    app = open_page(f"views/{page}.py")
    assert not app.exception, app.exception
