"""ExcelError: what a cell shows when a call fails, an Excel error code with a message the user can act on."""

from __future__ import annotations

from typing import Literal

from shiftwork.errors import Conflict, InvalidSpec, NotFound, ShiftworkError

ErrorCode = Literal["#VALUE!", "#N/A", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#REF!", "#BUSY!"]
# CustomFunctions.ErrorCode's names for each (the Office.js client builds its CustomFunctions.Error from them)
OFFICE_CODES: dict[str, str] = {
    "#VALUE!": "invalidValue",
    "#N/A": "notAvailable",
    "#DIV/0!": "divisionByZero",
    "#NUM!": "invalidNumber",
    "#NAME?": "invalidName",
    "#NULL!": "nullReference",
    "#REF!": "invalidReference",
    "#BUSY!": "notAvailable",  # Office.js has no #BUSY!: a streaming cell still waiting shows #N/A
}
MAX_MESSAGE = 255  # what Excel shows of an error's message in the cell's tooltip


class ExcelError(ShiftworkError, ValueError):
    """Raise it in an exposed function to choose the cell's error: `raise ExcelError("#N/A", "no price yet")`."""

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        if code not in OFFICE_CODES:
            raise ValueError(f"{code!r} is not an Excel error code: use one of {', '.join(OFFICE_CODES)}")
        self.code = code
        self.message = message
        super().__init__(f"{code} {message}")


def as_excel_error(error: BaseException) -> ExcelError:
    """The cell's error for an exception a function raised: its type and message, never a traceback."""
    if isinstance(error, ExcelError):
        return error
    if isinstance(error, ZeroDivisionError):
        return ExcelError("#DIV/0!", _message(error))
    if isinstance(error, NotFound | LookupError):
        return ExcelError("#N/A", _message(error))
    if isinstance(error, OverflowError | ArithmeticError):
        return ExcelError("#NUM!", _message(error))
    if isinstance(error, InvalidSpec | Conflict | ShiftworkError):
        return ExcelError("#VALUE!", str(error))
    return ExcelError("#VALUE!", _message(error))


def _message(error: BaseException) -> str:
    text = str(error).strip() or "(no message)"
    return f"{type(error).__name__}: {text}"


def clip(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
