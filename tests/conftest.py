"""One embedded stack (a ThreadedMotoServer on port 0, bootstrapped, with a launcher) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from shiftwork.local.stack import EmbeddedStack

    embedded = EmbeddedStack(tmp_path_factory.mktemp("state"), run_jobs=True).start()
    embedded.ensure_ecs()
    yield embedded
    embedded.close()
