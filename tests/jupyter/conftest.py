"""One JupyterLab per module, its scheduler on the worker's embedded stack (the Service, in its environment)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.jupyter.server import JupyterServer, jupyter_lab


@pytest.fixture(scope="module")
def lab(stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    with jupyter_lab(tmp_path_factory.mktemp("jupyter")) as server:
        yield server
