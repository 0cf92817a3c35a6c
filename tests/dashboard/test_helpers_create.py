"""The Create form's fields come from the notebook's parameters cell (names, defaults, types); only changed values
are sent; an error's field finds the widget it is shown under."""

from __future__ import annotations

import json

import nbformat
import pytest

from dashboard.helpers.create import NOT_A_LITERAL, changed_parameters, error_slot, field_kind, parameter_fields
from shiftwork.errors import InvalidSpec
from tests.helpers import write_notebook

CELL = """\
runs = 3  # how many times
rate = 0.25
label = "daily"
dry_run = False
regions = ["eu", "us"]
limits = {"cpu": 2}
start = None
today = str(1 + 1)
count: float = 2
"""


@pytest.fixture
def fields(tmp_path):
    return parameter_fields(write_notebook(tmp_path / "params.ipynb", CELL, "print(runs)"))


def test_fields_match_the_parameters_cell_in_its_order_with_types_and_defaults(fields):
    assert [(f.name, f.kind, f.default) for f in fields] == [
        ("runs", "int", 3),
        ("rate", "float", 0.25),
        ("label", "str", "daily"),
        ("dry_run", "bool", False),
        ("regions", "json", ["eu", "us"]),
        ("limits", "json", {"cpu": 2}),
        ("start", "json", None),
        ("today", "json", NOT_A_LITERAL),  # not a literal: the form cannot show it, the notebook keeps it
        ("count", "float", 2.0),  # the annotation wins over the default's type
    ]
    assert fields[0].help == "how many times"
    assert [f.initial_text for f in fields[4:8]] == ['["eu", "us"]', '{"cpu": 2}', "null", ""]
    assert fields[7].written == "str(1 + 1)"


def test_a_notebook_without_a_kernelspec_is_read_as_python3(tmp_path):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("n = 1")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    path = tmp_path / "bare.ipynb"
    nbformat.write(notebook, str(path))
    assert [(f.name, f.kind, f.default) for f in parameter_fields(path)] == [("n", "int", 1)]


def test_a_notebook_without_a_parameters_cell_has_no_fields(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("n = 1")]
    nbformat.write(notebook, str(tmp_path / "none.ipynb"))
    assert parameter_fields(tmp_path / "none.ipynb") == []


def test_bool_is_not_taken_for_int():
    assert field_kind("None", True) == "bool" and field_kind("None", 1) == "int" and field_kind("None", 1.0) == "float"


def test_only_changed_values_are_sent_and_json_text_is_parsed(fields):
    values = {
        "runs": 3,
        "rate": 0.5,
        "label": "daily",
        "dry_run": True,
        "regions": json.dumps(["eu", "us"]),
        "limits": '{"cpu": 4}',
        "start": "null",
        "today": "",  # left empty: the notebook computes it
        "count": 2.0,
    }
    assert changed_parameters(fields, values) == {"rate": 0.5, "dry_run": True, "limits": {"cpu": 4}}
    assert changed_parameters(fields, {**values, "today": '"2026-03-27"'})["today"] == "2026-03-27"


def test_bad_json_names_the_parameter(fields):
    with pytest.raises(InvalidSpec) as refused:
        changed_parameters(fields, {"regions": "[eu"})
    assert refused.value.field == "parameters.regions" and "JSON" in refused.value.fix
    assert error_slot(refused.value.field) == "parameters.regions"


@pytest.mark.parametrize(
    ("field", "slot"),
    [
        ("schedule", "schedule"),
        ("cron", "schedule"),
        ("interval", "schedule"),
        ("timezone", "timezone"),
        ("output format", "formats"),
        ("output_formats", "formats"),
        ("kernel", "kernel"),
        ("parameter name", "parameters"),
        ("name", "name"),
        ("notebook", "notebook"),
        ("max_running_jobs", "form"),
    ],
)
def test_errors_find_their_widget(field, slot):
    assert error_slot(field) == slot
