"""The public Python API: the README's session runs as written, and the package root is lazy and complete."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_environment

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def readme_python_session() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## From Python") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_session_creates_runs_waits_and_downloads(tmp_path: Path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    result = subprocess.run(
        [sys.executable, "-c", readme_python_session()],
        cwd=tmp_path,
        env=clean_environment(tmp_path / "state"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    expression, status, files = result.stdout.splitlines()
    assert expression == "cron(0 9 ? * 2 *)"
    assert status == "COMPLETED ['Notebook', 'HTML', 'greeting.json']"
    assert files == "['greeting.json', 'hello.html', 'hello.ipynb']"
    assert "Hello, World" in (tmp_path / "hello-output" / "hello.html").read_text()
    assert "Traceback" not in result.stderr


def test_importing_the_package_loads_nothing_else():
    probe = (
        "import sys, shiftwork\n"
        "before = {m for m in sys.modules if m.startswith(('shiftwork.', 'boto', 'pydantic', 'pynamodb'))}\n"
        "from shiftwork import Schedule\n"
        "after = {m for m in sys.modules if m.startswith(('boto', 'pydantic', 'pynamodb'))}\n"
        "print(sorted(before), sorted(after))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[] []"


def test_every_public_name_resolves_to_what_it_names():
    import shiftwork
    from shiftwork.errors import ShiftworkError

    for name in shiftwork.__all__:
        value = getattr(shiftwork, name)
        assert value is not None, name
        if name.endswith(("Error", "Spec", "Found", "Conflict", "Unavailable", "Timeout")):
            assert issubclass(value, ShiftworkError), name
    assert sorted(dir(shiftwork)) == sorted(shiftwork.__all__)
    assert set(shiftwork.__all__) == {"__version__", *shiftwork._EXPORTS}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        shiftwork.nope  # noqa: B018
