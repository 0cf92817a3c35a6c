"""A workbook computed without Excel: the `formulas` library's model, the add-in's functions registered in it as ONE
generic client that calls the server (POST /excel/call), as a worksheet's add-in does.

formulas evaluates a cell's function when its dispatcher reaches the cell, one cell at a time, so each cell is one
request (of one call) over one keep-alive connection: the protocol's batching cannot be used from inside it.
A spilled result (a range) needs the formula entered as an array formula over its target range (openpyxl's
ArrayFormula), as a pre-dynamic-array Excel wanted: formulas has no spilling, and a range result in one plain cell
is #VALUE!. A result smaller than its range fills the rest with #N/A; one row (or column) is repeated, as Excel does.
formulas' error values (XlError) carry no message: the messages the server gave are kept in `ServerFunctions.errors`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import schedula as sh
import urllib3
from formulas.functions import COMPILING, wrap_impure_func, wrap_ranges_func
from formulas.tokens.operand import NA, Error, XlError


class ServerFunctions:
    """Every worksheet function of a server, as one client: a cell's call is POST /excel/call with its arguments."""

    def __init__(self, url: str, token: str) -> None:
        self._pool = urllib3.connection_from_url(url, maxsize=1, block=True, timeout=60.0, retries=False)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.requests = 0
        self.calls: list[tuple[str, list[Any]]] = []  # each request's function and arguments, in order
        self.errors: list[tuple[str, str, str]] = []  # (function, code, message) of each error cell
        self.failures: list[str] = []  # transport failures: formulas drops a cell whose function raises, silently

    def names(self) -> list[str]:
        """The server's non-streaming functions' qualified names (GET /excel/functions), as a client learns them."""
        response = self._pool.request("GET", "/excel/functions", headers=self._headers)
        assert response.status == 200, response.data
        addins = response.json()["addins"]
        return [f["qualified_name"] for a in addins for f in a["functions"] if not f["streaming"]]

    def call(self, function: str, *args: Any) -> Any:
        """One cell: its arguments as the protocol's values, its result or error as formulas' values."""
        wire = [to_wire(arg) for arg in args]
        error = _first_error(wire)
        if error is not None:
            return error  # an error argument is the cell's error, as in Excel, without a call
        body = json.dumps({"calls": [{"function": function, "args": wire}]})
        self.requests += 1
        self.calls.append((function, wire))
        try:
            response = self._pool.request("POST", "/excel/call", body=body, headers=self._headers)
        except urllib3.exceptions.HTTPError as failure:
            self.failures.append(f"{function}: {failure}")
            raise
        if response.status != 200:
            self.failures.append(f"{function}: HTTP {response.status} {response.data[:300]!r}")
            raise RuntimeError(self.failures[-1])
        (result,) = response.json()["results"]
        return self._from_wire(function, result)

    def _from_wire(self, function: str, result: dict[str, Any]) -> Any:
        if result.get("error"):
            code, message = result["error"]["code"], result["error"]["message"]
            self.errors.append((function, code, message))
            return Error.errors.get(code, NA)  # #BUSY! is not one of formulas' errors: #N/A, as Office.js shows it
        value = result["value"]
        if isinstance(value, list):
            return np.array(value, dtype=object)  # rows: the array formula's range takes them
        return value

    def close(self) -> None:
        self._pool.close()


def to_wire(value: Any) -> Any:
    """A formulas value as JSON: an array as rows (a one-cell range is its value server side), empty as null."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return to_wire(value.item())
        return [[to_wire(cell) for cell in row] for row in np.atleast_2d(value).tolist()]
    if value is sh.EMPTY:
        return None
    if isinstance(value, XlError):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _first_error(values: Iterable[Any]) -> XlError | None:
    for value in values:
        if isinstance(value, XlError):
            return value
        if isinstance(value, list):
            found = _first_error(value)
            if found is not None:
                return found
    return None


@contextmanager
def registered(client: ServerFunctions, names: Iterable[str]) -> Iterator[list[str]]:
    """formulas' documented way (formulas.get_functions()[NAME] = f) for each name, calling client; removed after.

    Registered as formulas registers NOW() and RAND(), impure: formulas computes a formula whose arguments are all
    constants once, when it builds the model, and keeps that value for good; a server's answer (a job's id, the
    jobs table, the next fires) is not a constant, so every calculate() calls again (Excel's full recalculation).
    """
    import formulas

    functions = formulas.get_functions()
    added = [name.upper() for name in names]
    for name in added:
        # wrap_ranges_func hands the function values, not references (it does not swallow errors, as wrap_func does)
        call = wrap_ranges_func(functools.partial(client.call, name))
        functions[name] = {"extra_inputs": {COMPILING: False}, "function": wrap_impure_func(call)}
    try:
        yield added
    finally:
        for name in added:
            functions.pop(name, None)


def compute(path: Path) -> tuple[Any, dict[str, Any]]:
    """The workbook's model and a first calculation's solution."""
    import formulas

    model = formulas.ExcelModel().loads(str(path)).finish()
    return model, model.calculate()


def value(solution: Any, book: str, sheet: str, ref: str) -> Any:
    """A cell's (or an array formula's range's) computed value: a scalar or rows; errors as their text (#NUM!)."""
    key = f"'[{book}]{sheet.upper()}'!{ref.upper()}"
    assert key in solution, f"{key} was not computed (formulas drops a cell whose function raised)"
    rows = [[_plain(cell) for cell in row] for row in np.atleast_2d(solution[key].value).tolist()]
    return rows[0][0] if ":" not in ref else rows


def _plain(cell: Any) -> Any:
    if isinstance(cell, XlError):
        return str(cell)
    if isinstance(cell, np.generic):
        return cell.item()
    return cell
