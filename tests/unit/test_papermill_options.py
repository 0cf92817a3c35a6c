"""papermill's parameter options merged in its order, and how failures are told: cell numbers, tracebacks."""

from __future__ import annotations

import nbformat
import pytest

from shiftwork.cli.parameters import collect_parameters
from shiftwork.errors import InvalidSpec
from shiftwork.runner.failure import (
    MAX_MESSAGE_CHARS,
    MAX_TRACEBACK_CHARS,
    CellFailed,
    describe_failure,
    failure_traceback,
    user_cell_number,
)


def test_later_sources_win_in_papermills_order(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("a: 1\nb: 1\nlist: [1, 2]\n")
    second.write_text("b: 2\nday: 2026-03-27\n")
    merged = collect_parameters([first, second], ["b: 3\nc: 3"], ["c=4", "d=4"], ["d\x005"])
    assert merged == {"a": 1, "b": 3, "list": [1, 2], "day": "2026-03-27", "c": 4, "d": "5"}
    assert collect_parameters(None, ["", "# only a comment"], None, None) == {}


@pytest.mark.parametrize(
    ("yamls", "field", "fix"),
    [
        (["[1, 2"], "--parameters-yaml", "is not valid YAML"),
        (["- 1\n- 2"], "--parameters-yaml", "must be a YAML mapping"),
        (["class: 1"], "parameter name", "must be a Python identifier"),
        (["blob: !!binary aGk="], "--parameters-yaml", "give a number, string, list or mapping"),
        (["x: .nan"], "--parameters-yaml", "give a number, string, list or mapping"),
    ],
)
def test_bad_yaml_is_refused_naming_the_option_and_the_fix(yamls, field, fix):
    with pytest.raises(InvalidSpec) as refused:
        collect_parameters(None, yamls, None, None)
    assert refused.value.field == field
    assert fix in str(refused.value)


def test_a_raw_parameter_needs_an_identifier_and_a_value(tmp_path):
    with pytest.raises(InvalidSpec, match="parameter name '1x'"):
        collect_parameters(None, None, None, ["1x\x00v"])
    with pytest.raises(InvalidSpec, match="-r NAME VALUE"):
        collect_parameters(None, None, None, ["no-value"])
    with pytest.raises(InvalidSpec, match="--parameters-file"):
        collect_parameters([tmp_path / "missing.yaml"], None, None, None)


def test_cells_are_numbered_without_papermills_injected_cell():
    injected = nbformat.v4.new_code_cell("n = 2")
    injected.metadata["tags"] = ["injected-parameters"]
    cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("n = 1"), injected]
    cells.append(nbformat.v4.new_code_cell("1 / 0"))
    assert user_cell_number(cells, 3) == 3  # papermill's index 3 is the user's third cell
    assert user_cell_number(cells, 1) == 2


def test_a_traceback_is_stripped_of_colour_and_keeps_its_tail():
    lines = ["\x1b[31mValueError\x1b[39m   Traceback"] + [f"frame {i}" for i in range(20000)] + ["ValueError: end"]
    text = failure_traceback(CellFailed(2, 3, "ValueError", "end", lines))
    assert "\x1b" not in text
    assert len(text) <= MAX_TRACEBACK_CHARS + 100
    assert text.startswith("[... ") and text.endswith("frame 19999\nValueError: end")
    assert failure_traceback(CellFailed(2, 3, "ValueError", "x", ["\x1b[0;31mshort\x1b[0m"])) == "short"


def test_status_message_is_one_short_line():
    message = describe_failure(CellFailed(4, 5, "ValueError", "first line\nsecond" + "x" * 10_000, []))
    assert message == "cell 4 (In [5]) raised ValueError: first line"
    long = describe_failure(CellFailed(4, 5, "ValueError", "y" * 10_000, []))
    assert len(long) == MAX_MESSAGE_CHARS and long.endswith("...")


def test_a_timeout_goes_into_the_cell_that_was_running(tmp_path):
    from shiftwork.runner.failure import record_timeout

    notebook = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("n = 1")]
    injected = nbformat.v4.new_code_cell("n = 2")
    injected.metadata["tags"] = ["injected-parameters"]
    cells += [injected, nbformat.v4.new_code_cell("sleep()"), nbformat.v4.new_code_cell("after()")]
    for index, cell in enumerate(cells):  # what papermill leaves: cells 1-3 started, the last one pending
        cell.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00" if index < 4 else None, "status": "completed"}
        if cell.cell_type == "code":
            cell.execution_count = index if index < 4 else None
    notebook.cells = cells
    path = tmp_path / "partial.ipynb"
    nbformat.write(notebook, str(path))

    assert (
        record_timeout(path, "the job timed out after 3 s (--timeout)") == "cell 3 (In [3])"
    )  # the injected cell is not counted
    saved = nbformat.read(str(path), as_version=4)
    assert saved.cells[0].metadata.get("tags") == ["papermill-error-cell-tag"]
    running = next(c for c in saved.cells if c.source == "sleep()")
    assert [(o.ename, o.evalue) for o in running.outputs] == [
        ("TimeoutError", "the job timed out after 3 s (--timeout)")
    ]
    assert record_timeout(tmp_path / "missing.ipynb", "x") == ""
