"""Worksheet values: each annotation's conversion of what a cell sends, and of what a function returns."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from shiftwork.excel import Addin, ExcelError
from shiftwork.excel.values import ValueType, convert_argument, convert_result, from_serial, to_serial, value_type


@pytest.mark.parametrize(
    ("moment", "serial"),
    [
        (date(1900, 1, 1), 1),
        (date(1900, 2, 28), 59),
        (date(1900, 3, 1), 61),  # Excel's fictitious 1900-02-29 is serial 60
        (date(2026, 12, 1), 46357),
        (date(9999, 12, 31), 2958465),
        (datetime(2026, 12, 1, 18, 0), 46357.75),
    ],
)
def test_dates_are_excel_serials_both_ways(moment, serial):
    assert to_serial(moment) == serial
    back = from_serial(serial, "d")
    assert (back if isinstance(moment, datetime) else back.date()) == moment


def test_serial_60_and_dates_outside_excel_are_refused_by_name():
    with pytest.raises(ExcelError, match="1900-02-29"):
        from_serial(60, "d")
    with pytest.raises(ExcelError) as refused:
        from_serial(0, "expiry")
    assert refused.value.code == "#NUM!" and "expiry" in refused.value.message
    with pytest.raises(ExcelError, match="outside Excel's dates"):
        to_serial(date(1899, 12, 1))


@pytest.mark.parametrize(
    ("annotation", "sent", "expected"),
    [
        (float, 2, 2.0),
        (float, "1,234.5", 1234.5),  # text a number is typed as
        (float, True, 1.0),  # Excel's TRUE is 1
        (int, 3.0, 3),
        (str, 5.0, "5"),  # as the cell shows it
        (str, False, "FALSE"),
        (bool, "true", True),
        (bool, 0, False),
        (date, 46357, date(2026, 12, 1)),
        (date, "2026-12-01", date(2026, 12, 1)),
        (datetime, 46357.5, datetime(2026, 12, 1, 12)),
        (Any, [[1, "a"]], [[1, "a"]]),
    ],
)
def test_each_scalar_annotation_converts_what_a_cell_sends(annotation, sent, expected):
    converted = convert_argument(sent, value_type(annotation), "x")
    assert converted == expected and type(converted) is type(expected)


@pytest.mark.parametrize(
    ("annotation", "sent", "code", "words"),
    [
        (float, "abc", "#VALUE!", "x is the text 'abc': give a number"),
        (float, math.inf, "#NUM!", "finite"),
        (int, 2.5, "#VALUE!", "x is 2.5: give a whole number"),
        (bool, "maybe", "#VALUE!", "give TRUE or FALSE"),
        (date, "soon", "#VALUE!", "give a date"),
        (float, None, "#VALUE!", "x is empty: give a number"),
        (float, [[1, 2]], "#VALUE!", "x takes one value, not a 1x2 range"),
    ],
)
def test_a_value_that_does_not_fit_is_the_cells_error_naming_the_argument(annotation, sent, code, words):
    with pytest.raises(ExcelError) as refused:
        convert_argument(sent, value_type(annotation), "x")
    assert refused.value.code == code
    assert words in refused.value.message


def test_ranges_are_rows_and_empty_cells_need_an_optional_annotation():
    assert convert_argument([[1, 2], [3, 4]], value_type(list[list[float]]), "r") == [[1.0, 2.0], [3.0, 4.0]]
    assert convert_argument(7, value_type(list[list[int]]), "r") == [[7]]  # one cell is a 1x1 range
    with pytest.raises(ExcelError) as refused:
        convert_argument([[1, ""], [3, 4]], value_type(list[list[float]]), "r")
    assert "r row 1, column 2 is empty" in refused.value.message
    assert "float | None" in refused.value.message
    assert convert_argument([[1, ""], [None, 4]], value_type(list[list[float | None]]), "r") == [[1.0, None], [None, 4]]
    assert convert_argument([["a", ""]], value_type(list[list[str]]), "r") == [["a", ""]]  # empty text is text
    with pytest.raises(ExcelError, match="rows are not all 2 cells long"):
        convert_argument([[1, 2], [3]], value_type(list[list[float]]), "r")


def test_a_vector_takes_one_row_or_one_column():
    spec = value_type(list[float])
    assert convert_argument([[1, 2, 3]], spec, "v") == [1.0, 2.0, 3.0]
    assert convert_argument([[1], [2], [3]], spec, "v") == [1.0, 2.0, 3.0]
    with pytest.raises(ExcelError, match="one row or one column, not a 2x2 range"):
        convert_argument([[1, 2], [3, 4]], spec, "v")


def test_results_spill_padded_and_flat_lists_go_down_a_column():
    matrix = ValueType("any", "matrix", True)
    assert convert_result([[1, 2, 3], [4]], matrix) == [[1, 2, 3], [4, "", ""]]
    assert convert_result([1, 2], matrix) == [[1], [2]]
    assert convert_result(5, matrix) == [[5]]
    assert convert_result([], matrix) == [[""]]
    assert convert_result([[date(2026, 12, 1), None]], matrix) == [[46357.0, ""]]
    with pytest.raises(ExcelError) as refused:
        convert_result(float("nan"), ValueType("number"))
    assert refused.value.code == "#NUM!"
    with pytest.raises(ExcelError, match="declared to return one value but returned a list"):
        convert_result([1], ValueType("number"))
    with pytest.raises(ExcelError, match="32,767"):
        convert_result("x" * 40_000, ValueType("string"))


def test_annotations_excel_cannot_check_are_refused_when_exposed():
    addin = Addin("Checks", namespace="CHECKS")
    with pytest.raises(TypeError, match=r"CHECKS.BAD .*argument x: dict is not a worksheet type"):

        @addin.expose
        def bad(x: dict) -> float:
            return 1.0

    with pytest.raises(TypeError, match="union Excel cannot check"):

        @addin.expose
        def either(x: int | str) -> float:
            return 1.0

    with pytest.raises(TypeError, match="\\*\\*options cannot come from a worksheet"):

        @addin.expose
        def loose(**options: float) -> float:
            return 1.0

    with pytest.raises(ValueError, match="reads as a cell reference"):
        addin.expose(name="AB12")(lambda: 1)
    with pytest.raises(ValueError, match="exposed twice"):
        addin.expose(name="ONE")(lambda: 1)
        addin.expose(name="ONE")(lambda: 2)
    assert list(addin.functions) == ["ONE"]  # nothing refused was registered


def test_optional_and_repeating_arguments_and_their_metadata():
    addin = Addin("Meta", namespace="META")

    @addin.expose(description="sum with a scale", arguments={"scale": "multiplier"})
    def total(scale: float = 1.0, *values: float) -> float:
        return scale * sum(values)

    @addin.expose(volatile=True)
    def ticks(n: int) -> Iterator[int]:
        yield from range(n)

    exposed = addin.functions["TOTAL"]
    assert exposed.call([]) == 0
    assert exposed.call([2, 1, 2, 3]) == 12
    assert exposed.signature() == "=META.TOTAL([scale], ...values)"
    assert [p.description for p in exposed.parameters] == ["multiplier", ""]
    assert exposed.parameters[1].repeating
    with pytest.raises(ExcelError, match=r"values\[2\] is the text 'x'"):
        exposed.call([1, 2, "x"])
    streaming = addin.functions["TICKS"]
    assert streaming.streaming and streaming.volatile and streaming.result.kind == "integer"
    assert list(streaming.stream([3])) == [0, 1, 2]


def test_namespace_defaults_to_the_defining_module(tmp_path):
    from shiftwork.excel.loading import load_addins

    (tmp_path / "rates_desk.py").write_text(
        "from shiftwork.excel import Addin\naddin = Addin('Rates')\n"
        "@addin.expose\ndef one() -> float:\n    return 1.0\n"
    )
    (addin,) = load_addins(str(tmp_path / "rates_desk.py"))
    assert addin.namespace == "RATES_DESK"
    assert addin.functions["ONE"].qualified_name == "RATES_DESK.ONE"


def test_an_empty_cell_is_empty_text_for_a_text_argument_and_none_where_optional():
    assert convert_argument(None, value_type(str), "s") == ""
    assert convert_argument("", value_type(str | None), "s") is None
    assert convert_argument(None, value_type(float | None), "x") is None
