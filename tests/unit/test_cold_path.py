"""The dispatch path stays light: a Lambda cold start must not pay for the notebook machinery."""

import subprocess
import sys

import pytest

HEAVY = ("papermill", "nbconvert", "nbformat", "pandas", "streamlit", "moto")


@pytest.mark.parametrize(
    "module",
    [
        "functions.dispatch",
        "functions.complete",
        "functions.s3_trigger",
        "shiftwork.dispatch.fire",
        "shiftwork.dispatch.arrival",
        "shiftwork.schedules",
    ],
)
def test_handler_imports_load_no_heavy_module(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
