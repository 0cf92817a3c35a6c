"""AppTest of the dashboard's pages on the session's embedded stack, through the Service or through the REST API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from shiftwork.config import ENV_API_TOKEN, ENV_API_URL

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
RENDER_TIMEOUT = 60  # seconds one script run may take (a page reads moto server; the machine may be loaded)


@pytest.fixture(scope="session")
def api(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The REST API as `shiftwork up` serves it, over the session's stack, on 127.0.0.1."""
    from shiftwork.local.http_api import HttpApi, api_token

    server = HttpApi(api_token(tmp_path_factory.mktemp("dashboard-api"))).start()
    yield server
    server.stop()


def _opener(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    def open_page(page: str, **query: str) -> AppTest:
        """The app run once on `page` ("views/jobs.py"), with these query parameters (a detail page's id)."""
        app = AppTest.from_file(str(APP), default_timeout=RENDER_TIMEOUT)
        app.switch_page(page)
        for name, value in query.items():
            app.query_params[name] = value
        return app.run()

    return open_page


@pytest.fixture
def open_page(stack: object, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Pages over the library's Service (the process's environment points at the session's stack)."""
    monkeypatch.delenv(ENV_API_URL, raising=False)
    monkeypatch.delenv(ENV_API_TOKEN, raising=False)
    return _opener(monkeypatch)


@pytest.fixture
def open_remote_page(api: object, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Pages over the Client of the REST API, as `shiftwork dashboard` runs them."""
    monkeypatch.setenv(ENV_API_URL, api.url)  # type: ignore[attr-defined]
    monkeypatch.setenv(ENV_API_TOKEN, api.token)  # type: ignore[attr-defined]
    return _opener(monkeypatch)
