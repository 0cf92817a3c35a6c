"""A parameter name that is not a Python identifier is refused by every command that takes -p: exit 2, naming it,
and nothing made."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT

HELLO = str(ROOT / "examples" / "hello.ipynb")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["run", HELLO, "-p", "2x=1"], "2x"),
        (["run", HELLO, "-p", "a.b=1"], "a.b"),
        (["definitions", "create", HELLO, "-p", "class=1"], "class"),
        (["definitions", "update", "some-id", "-p", "x y=1"], "x y"),
        (["definitions", "run", "some-id", "-p", "x-y=3"], "x-y"),
    ],
)
def test_a_parameter_name_that_is_not_an_identifier_exits_2(cli, args, name):
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert f"parameter name '{name}'" in result.stderr and "Python identifier" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_nothing_was_made(cli):
    assert cli("definitions", "create", HELLO, "-p", "class=1").returncode == 2
    assert cli("run", HELLO, "-p", "2x=1").returncode == 2
    assert cli.json("definitions", "list") == []
    assert cli.json("jobs") == []
