"""The dispatch path stays light: a Lambda cold start must not pay for the notebook machinery."""

import os
import subprocess
import sys

import pytest

HEAVY = ("papermill", "nbconvert", "nbformat", "pandas", "streamlit", "moto")
HANDLERS = ["functions.dispatch", "functions.complete", "functions.s3_trigger"]
LIGHT_TOO = ["functions.excel"]  # the add-in Lambda: its routes and the module load on the first call


def _loaded(module: str, roots: tuple[str, ...]) -> str:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in {roots!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize(
    "module", [*HANDLERS, *LIGHT_TOO, "shiftwork.dispatch.fire", "shiftwork.dispatch.arrival", "shiftwork.schedules"]
)
def test_handler_imports_load_no_heavy_module(module):
    assert _loaded(module, HEAVY) == "[]"


@pytest.mark.parametrize("module", [*HANDLERS, "shiftwork.config", "shiftwork.aws"])
def test_handler_imports_leave_pydantic_to_the_first_call(module):
    """The job models a first call loads need pydantic; importing a handler (bench/cold_start.py) does not."""
    assert _loaded(module, ("pydantic", "pydantic_settings", "pydantic_core")) == "[]"


def test_every_client_comes_from_one_botocore_session():
    """pynamodb would make a session per table, each loading the endpoint data and service models again."""
    code = """
import botocore.session
made = []
init = botocore.session.Session.__init__
def counting(self, *args, **kwargs):
    made.append(self)
    init(self, *args, **kwargs)
botocore.session.Session.__init__ = counting
from shiftwork import aws
from shiftwork.store.tables import DefinitionRecord, JobRecord, bound
for model in (JobRecord, DefinitionRecord):
    bound(model)._get_connection().connection.client
aws.client("s3")
print(len(made))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIFTWORK_", "AWS_"))}
    env |= {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    made = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert made.strip() == "1"
