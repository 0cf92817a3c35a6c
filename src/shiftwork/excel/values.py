"""Worksheet values both ways: a function's annotations say what each argument must be, and how its result spills.

What crosses the wire is JSON: numbers, text, booleans, null (an empty cell or a missing argument) and 2-D lists
(a range). Dates are Excel serial numbers (the 1900 date system that Excel for Windows, Mac and the web use).
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, Union

from shiftwork.excel.errors import ExcelError

Kind = Literal["number", "integer", "string", "boolean", "date", "datetime", "any"]
Dimensionality = Literal["scalar", "vector", "matrix"]

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_TEXT = 32_767  # characters in one cell
EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 0 as Excel counts from 1900-03-01 on (its fictitious 1900-02-29)
LAST_SERIAL = 2_958_465  # 9999-12-31, the last date Excel shows

_SCALARS: dict[Any, Kind] = {
    float: "number",
    int: "integer",
    str: "string",
    bool: "boolean",
    date: "date",
    datetime: "datetime",
    Any: "any",
}
OFFICE_TYPES: dict[Kind, str] = {  # the types custom-functions metadata knows
    "number": "number",
    "integer": "number",
    "date": "number",
    "datetime": "number",
    "string": "string",
    "boolean": "boolean",
    "any": "any",
}


@dataclass(frozen=True)
class ValueType:
    """What one argument or result is: its kind, whether it is a range, and whether an empty cell is allowed."""

    kind: Kind
    dimensionality: Dimensionality = "scalar"
    nullable: bool = False  # `X | None`: an empty cell (or missing argument) is None

    @property
    def office_type(self) -> str:
        return OFFICE_TYPES[self.kind]

    @property
    def office_dimensionality(self) -> str:
        return "scalar" if self.dimensionality == "scalar" else "matrix"

    def kind_annotation(self) -> str:
        return next(t.__name__ if isinstance(t, type) else "Any" for t, k in _SCALARS.items() if k == self.kind)

    def describe(self) -> str:
        word = {"integer": "whole number", "datetime": "date and time", "any": "value"}.get(self.kind, self.kind)
        if self.dimensionality == "matrix":
            return f"a range of {word}s"
        if self.dimensionality == "vector":
            return f"a row or column of {word}s"
        return f"a {word}"


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1 and len(typing.get_args(annotation)) == 2:
            return members[0], True
        raise TypeError(f"{annotation} is a union Excel cannot check: use one type, or `X | None`")
    return annotation, False


def value_type(annotation: Any) -> ValueType:
    """The ValueType of an annotation: float, int, str, bool, date, datetime, Any (or none), `X | None`, list[X]
    (a row or column) and list[list[X]] (a range). TypeError names what is not one of them."""
    if annotation is None or annotation is type(None):
        return ValueType("any", nullable=True)
    inner, nullable = _unwrap_optional(annotation)
    origin = typing.get_origin(inner)
    if origin in (list, typing.List, Iterable, tuple):  # noqa: UP006  typing.List: annotations written the old way
        (element,) = typing.get_args(inner)[:1] or (Any,)
        element_origin = typing.get_origin(_unwrap_optional(element)[0])
        if element_origin in (list, typing.List):  # noqa: UP006
            (cell,) = typing.get_args(_unwrap_optional(element)[0])[:1] or (Any,)
            scalar = _scalar(cell)
            return ValueType(scalar.kind, "matrix", scalar.nullable)
        scalar = _scalar(element)
        return ValueType(scalar.kind, "vector", scalar.nullable)
    scalar = _scalar(inner)
    return ValueType(scalar.kind, "scalar", nullable or scalar.nullable)


def _scalar(annotation: Any) -> ValueType:
    inner, nullable = _unwrap_optional(annotation)
    if inner not in _SCALARS:
        names = "float, int, str, bool, date, datetime, Any, `X | None`, list[X] or list[list[X]]"
        raise TypeError(f"{getattr(inner, '__name__', inner)} is not a worksheet type: annotate it as {names}")
    return ValueType(_SCALARS[inner], "scalar", nullable)


def streamed_type(annotation: Any) -> ValueType:
    """The type of what a streaming function yields: X of Iterator[X] / Generator[X, ...] / Iterable[X]."""
    origin = typing.get_origin(annotation)
    if origin in (Iterator, Iterable, typing.Generator, typing.Iterator, typing.Iterable):
        args = typing.get_args(annotation)
        return value_type(args[0] if args else Any)
    if annotation is None or annotation is Any:
        return ValueType("any", nullable=True)
    raise TypeError(f"a streaming function yields its values: annotate its result Iterator[X], not {annotation}")


# -- dates ---------------------------------------------------------------------------------------------------
def to_serial(value: date | datetime) -> float:
    """Excel's serial number of a date (whole) or a date and time (a day's fraction); aware times keep their
    wall time (a cell has no time zone)."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    moment = moment.replace(tzinfo=None)
    delta = moment - EXCEL_EPOCH
    serial = delta.days + delta.seconds / 86_400 + delta.microseconds / 86_400_000_000
    if serial < 61:  # before 1900-03-01 Excel counts its fictitious 1900-02-29: one more
        serial -= 1
    if not 1 <= serial <= LAST_SERIAL + 1:
        raise ExcelError("#NUM!", f"{value} is outside Excel's dates (1900-01-01 to 9999-12-31)")
    return serial if isinstance(value, datetime) else float(int(serial))


def from_serial(serial: float, name: str) -> datetime:
    if not 1 <= serial < LAST_SERIAL + 1:
        raise ExcelError("#NUM!", f"{name}: {serial} is not an Excel date (1 is 1900-01-01, {LAST_SERIAL} 9999-12-31)")
    if 60 <= serial < 61:
        raise ExcelError("#NUM!", f"{name}: serial 60 is 1900-02-29, a day that did not exist")
    whole = serial + 1 if serial < 60 else serial
    return EXCEL_EPOCH + timedelta(days=whole)


# -- arguments in ---------------------------------------------------------------------------------------------
def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0  # Excel's TRUE is 1
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ExcelError("#NUM!", f"{name} is {value}: give a finite number")
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            raise ExcelError("#VALUE!", f"{name} is the text {value[:40]!r}: give a number") from None
        if math.isfinite(number):
            return number
    raise ExcelError("#VALUE!", f"{name} is {str(value)[:40]!r}: give a number")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 5, as the cell shows it, not 5.0
    return str(value)


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    raise ExcelError("#VALUE!", f"{name} is {str(value)[:40]!r}: give TRUE or FALSE")


def _datetime(value: Any, name: str) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ExcelError("#VALUE!", f"{name} is {value[:40]!r}: give a date (a date cell, or 2026-12-01)") from None
    return from_serial(_number(value, name), name)


def _scalar_in(value: Any, kind: Kind, name: str) -> Any:
    if kind == "any":
        return value
    if kind == "number":
        return _number(value, name)
    if kind == "integer":
        number = _number(value, name)
        if not number.is_integer():
            raise ExcelError("#VALUE!", f"{name} is {number:g}: give a whole number")
        return int(number)
    if kind == "string":
        return _text(value)
    if kind == "boolean":
        return _boolean(value, name)
    moment = _datetime(value, name)
    return moment.date() if kind == "date" else moment


def _cell_in(value: Any, spec: ValueType, where: str) -> Any:
    if _is_empty(value) and spec.kind != "any" and not (spec.kind == "string" and value == ""):
        if spec.nullable:
            return None
        if spec.kind == "string":
            return ""
        raise ExcelError(
            "#VALUE!",
            f"{where} is empty: fill it, or annotate the cells `{spec.kind_annotation()} | None` to accept empty ones",
        )
    return _scalar_in(value, spec.kind, where)


def convert_argument(value: Any, spec: ValueType, name: str) -> Any:
    """One argument as the function's annotation asks; ExcelError names the argument (and the cell of a range)."""
    if spec.dimensionality == "scalar":
        if spec.kind == "any":
            return value  # as sent: a value, or rows of a range
        if isinstance(value, list):
            rows = _rows(value, name)
            if len(rows) == 1 and len(rows[0]) == 1:
                value = rows[0][0]  # a one-cell range is its value
            else:
                raise ExcelError("#VALUE!", f"{name} takes one value, not a {len(rows)}x{len(rows[0])} range")
        if _is_empty(value):
            if spec.nullable:
                return None
            if spec.kind == "string":
                return ""  # an empty cell is empty text
            raise ExcelError("#VALUE!", f"{name} is empty: give {spec.describe()}")
        return _scalar_in(value, spec.kind, name)
    rows = _rows(value, name)
    cell = ValueType(spec.kind, "scalar", spec.nullable)
    if spec.dimensionality == "vector":
        if len(rows) != 1 and any(len(row) != 1 for row in rows):
            raise ExcelError("#VALUE!", f"{name} takes one row or one column, not a {len(rows)}x{len(rows[0])} range")
        flat = rows[0] if len(rows) == 1 else [row[0] for row in rows]
        return [_cell_in(v, cell, f"{name}[{i + 1}]") for i, v in enumerate(flat)]
    return [
        [_cell_in(v, cell, f"{name} row {r + 1}, column {c + 1}") for c, v in enumerate(row)]
        for r, row in enumerate(rows)
    ]


def _rows(value: Any, name: str) -> list[list[Any]]:
    """A range as rows: a scalar is a 1x1 range, a flat list one row; ragged rows are refused."""
    if not isinstance(value, list):
        return [[value]]
    if not value:
        raise ExcelError("#VALUE!", f"{name} is an empty range")
    if not all(isinstance(row, list) for row in value):
        if any(isinstance(row, list) for row in value):
            raise ExcelError("#VALUE!", f"{name} mixes values and rows: send a 2-D range")
        return [value]
    width = len(value[0])
    if width == 0 or any(len(row) != width for row in value):
        raise ExcelError("#VALUE!", f"{name}'s rows are not all {width} cells long: send a rectangular range")
    return value


# -- results out ----------------------------------------------------------------------------------------------
def _cell_out(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, list | dict | str):
        value = value.item()  # numpy scalars
    if value is None:
        return ""
    if isinstance(value, bool | str):
        if isinstance(value, str) and len(value) > EXCEL_MAX_TEXT:
            raise ExcelError(
                "#VALUE!", f"the result has text of {len(value):,} characters: a cell holds {EXCEL_MAX_TEXT:,}"
            )
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ExcelError("#NUM!", f"the result is {value}")
        return value
    if isinstance(value, datetime | date):
        return to_serial(value)
    if isinstance(value, list | tuple | dict):
        raise ExcelError("#VALUE!", "the result has a list or mapping inside a cell: return a flat 2-D list")
    return str(value)


def convert_result(value: Any, spec: ValueType) -> Any:
    """A result as the cell shows it: a scalar, or rows (ragged rows padded with empty text) for a range."""
    if hasattr(value, "tolist") and callable(value.tolist):
        value = value.tolist()  # numpy arrays
    if spec.dimensionality == "scalar":
        if isinstance(value, list | tuple):
            raise ExcelError("#VALUE!", "the function is declared to return one value but returned a list")
        return _cell_out(value)
    if not isinstance(value, list | tuple):
        return [[_cell_out(value)]]
    if not value:
        return [[""]]
    if not any(isinstance(row, list | tuple) for row in value):
        rows = [[v] for v in value]  # a flat list spills down one column
    else:
        rows = [list(row) if isinstance(row, list | tuple) else [row] for row in value]
    width = max(len(row) for row in rows) or 1
    if len(rows) > EXCEL_MAX_ROWS or width > EXCEL_MAX_COLUMNS:
        raise ExcelError(
            "#NUM!", f"the result is {len(rows):,}x{width:,}: a sheet has 1,048,576 rows and 16,384 columns"
        )
    return [[_cell_out(v) for v in row] + [""] * (width - len(row)) for row in rows]
