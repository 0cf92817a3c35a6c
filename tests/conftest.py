"""One embedded stack (a ThreadedMotoServer on port 0, bootstrapped, with a launcher) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The longest modules (minutes, not seconds) start first, one per worker (--dist loadfile, --no-loadscope-reorder),
# so that none is left to run alone at the end
LONGEST_FIRST = [  # measured (2026-12-01, three workers): 127 s, 89 s, 81 s, 78 s, 67 s
    "tests/e2e/test_definitions_cli.py",
    "tests/functional/test_api_fuzz.py",  # 120-140 s alone since its state compares read moto's store (was 402 s)
    "tests/e2e/test_stress.py",
    "tests/e2e/test_workflow_cli.py",
    "tests/e2e/test_papermill_parity.py",
    "tests/e2e/test_embedded.py",
    "tests/e2e/test_restart.py",  # 73 s
    "tests/jupyter/test_scheduler_api.py",  # 55-77 s: a JupyterLab, real jobs, and a second one over the Client
    "tests/jupyter/test_lab_browser.py",  # 40-80 s: a JupyterLab, real jobs and Chromium
    "tests/e2e/test_dashboard_browser.py",  # 51 s: its own up, a dashboard and Chromium
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first; a stable sort, so every module keeps its own order."""
    rank = {module: index for index, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from shiftwork.local.stack import EmbeddedStack

    embedded = EmbeddedStack(tmp_path_factory.mktemp("state"), run_jobs=True).start()
    embedded.ensure_ecs()
    yield embedded
    embedded.close()
