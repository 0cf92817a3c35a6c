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


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each module runs whole in one worker (its module fixtures made once), as with --dist loadfile."""
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            module = item.nodeid.split("::", 1)[0]
            item.add_marker(pytest.mark.xdist_group(SHARED_WORKER.get(module, module)))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from shiftwork.local.stack import EmbeddedStack

    embedded = EmbeddedStack(tmp_path_factory.mktemp("state"), run_jobs=True).start()
    embedded.ensure_ecs()
    yield embedded
    embedded.close()
