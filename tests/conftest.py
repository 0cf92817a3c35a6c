"""One embedded stack (a ThreadedMotoServer on port 0, bootstrapped, with a launcher) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# Modules that share a session fixture too costly to make twice run in one xdist worker (--dist loadgroup)
SHARED_WORKER = {
    "tests/infra/test_stack.py": "cdk-synth",
    "tests/infra/test_grants.py": "cdk-synth",
    "tests/infra/test_moto_deploy.py": "cdk-synth",
}


# The longest modules (minutes, not seconds) start first, one per worker, so that none is left to run alone at the end
LONGEST_FIRST = ["tests/e2e/test_stress.py", "tests/functional/test_api_fuzz.py"]


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each module runs whole in one worker (its module fixtures made once), as with --dist loadfile; the longest
    go first (a stable sort: every module keeps its own order)."""
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(SHARED_WORKER.get(_module(item), _module(item))))
    rank = {module: index for index, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_module(item), len(rank)))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from shiftwork.local.stack import EmbeddedStack

    embedded = EmbeddedStack(tmp_path_factory.mktemp("state"), run_jobs=True).start()
    embedded.ensure_ecs()
    yield embedded
    embedded.close()
