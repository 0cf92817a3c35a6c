"""The add-in server on a real socket: examples/pricer.py's PRICER.* and SHIFTWORK.* over the session's embedded
stack, as `shiftwork excel serve` runs them (plain HTTP here; tests/excel/test_excel_http.py covers the HTTPS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRICER = ROOT / "examples" / "pricer.py"


@pytest.fixture(scope="module")
def pricer_module():
    """examples/pricer.py, imported as `shiftwork excel serve` imports it."""
    from shiftwork.excel.loading import load_module

    return load_module(str(PRICER))


@pytest.fixture(scope="module")
def excel_registry(stack: object, pricer_module):
    from shiftwork.api.excel import shiftwork_addin
    from shiftwork.api.service import Service
    from shiftwork.excel.loading import addins_of
    from shiftwork.excel.protocol import Registry

    return Registry([*addins_of(pricer_module), shiftwork_addin(Service(), poll_seconds=0.2)])


@pytest.fixture(scope="module")
def excel_server(excel_registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The server (`.url`, `.token`, `.registry`), with the Office.js files when they can be built here."""
    from shiftwork.local.excel_server import ExcelServer, excel_token

    state = tmp_path_factory.mktemp("excel")
    server = ExcelServer(excel_registry, token=excel_token(state))
    try:
        from shiftwork.cli.excel import build_static

        server.static_dir = build_static(excel_registry, server.url, state)
    except Exception as error:  # noqa: BLE001  the Office.js tests say why they cannot run; the rest go on
        server.static_error = error  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()
