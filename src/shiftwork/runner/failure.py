"""How a run fails, said the way a user reads the notebook: which cell, in their count, and the full traceback.

A cell's number counts the notebook's cells (code and markdown) as the user wrote them, from 1, without the
`injected-parameters` cell papermill adds for the job's parameters. A timed-out cell gets an error output and
papermill's error markers in the partial notebook, as a cell that raised does.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

# DynamoDB items are at most 400 KB (32 Ki characters are at most 128 KB of UTF-8); the end of a traceback says
# where it failed, so that is what is kept
MAX_TRACEBACK_CHARS = 32 * 1024
MAX_MESSAGE_CHARS = 500  # status_message is one line in a table
INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it adds

log = logging.getLogger(__name__)


class CellFailed(Exception):
    """A cell raised: papermill's PapermillExecutionError, with the cell numbered as the user counts."""

    def __init__(self, number: int, exec_count: int | None, ename: str, evalue: str, lines: list[str]) -> None:
        self.traceback_text = "\n".join(lines)
        super().__init__(f"cell {number} (In [{exec_count}]) raised {ename}: {evalue}")


class JobTimedOut(Exception):
    """The whole job ran past --timeout."""

    def __init__(self, seconds: float, where: str = "") -> None:
        super().__init__(f"timed out after {seconds:g} s" + (f" in {where}" if where else ""))


class CellTimedOut(Exception):
    """One cell ran past --execution-timeout."""

    def __init__(self, seconds: float, where: str) -> None:
        super().__init__(f"{where or 'a cell'} timed out after {seconds:g} s (--execution-timeout)")


class JobStopRequested(Exception):
    def __init__(self) -> None:
        super().__init__("stopped on request (SIGTERM)")


def user_cell_number(cells: list[Any], index: int) -> int:
    """Position of cells[index] from 1, not counting the cell papermill injected for the parameters."""
    injected = sum(1 for cell in cells[:index] if INJECTED_TAG in cell.get("metadata", {}).get("tags", []))
    return index + 1 - injected


def _without_markers(cells: list[Any]) -> list[Any]:
    """The cells as papermill indexed them: before it added its two error marker cells."""
    from papermill.execute import ERROR_MARKER_TAG

    return [c for c in cells if ERROR_MARKER_TAG not in c.get("metadata", {}).get("tags", [])]


def cell_failed(error: Any, output_path: Path) -> CellFailed:
    """CellFailed for papermill's PapermillExecutionError, numbering the cell from the saved partial notebook."""
    import nbformat

    try:
        notebook = nbformat.read(str(output_path), as_version=4)
        number = user_cell_number(_without_markers(notebook.cells), error.cell_index)
    except Exception:  # the notebook could not be read back: papermill's own position is the best there is
        log.exception("numbering the failed cell from %s", output_path)
        number = error.cell_index + 1
    return CellFailed(number, error.exec_count, error.ename, error.evalue, list(error.traceback or []))


def record_timeout(output_path: Path, message: str) -> str:
    """Put the timeout in the partial notebook's running cell as papermill records an error; returns 'cell N
    (In [M])', or '' if no cell was running (papermill saved the notebook but never reached its error check)."""
    try:
        return _record_timeout(output_path, message)
    except Exception:  # the timeout is still the job's failure, told without its cell
        log.exception("recording the timeout in %s", output_path)
        return ""


def _record_timeout(output_path: Path, message: str) -> str:
    import nbformat
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors

    if not output_path.is_file():
        return ""
    notebook = nbformat.read(str(output_path), as_version=4)
    started = [i for i, c in enumerate(notebook.cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:
        return ""
    cell = notebook.cells[started[-1]]
    cell.setdefault("outputs", []).append(
        nbformat.v4.new_output("error", ename="TimeoutError", evalue=message, traceback=[f"TimeoutError: {message}"])
    )
    cell.metadata.papermill.update(exception=True, status="failed")
    notebook.metadata.setdefault("papermill", {})["exception"] = True
    try:
        raise_for_execution_errors(notebook, str(output_path))  # papermill's markers, and it saves the notebook
    except PapermillExecutionError as error:
        return f"cell {user_cell_number(_without_markers(notebook.cells), error.cell_index)} (In [{error.exec_count}])"
    return ""


def describe_failure(error: BaseException) -> str:
    """One line for status_message, at most MAX_MESSAGE_CHARS (the traceback has the rest)."""
    from shiftwork.errors import ShiftworkError

    if isinstance(error, CellFailed | JobTimedOut | CellTimedOut | JobStopRequested | ShiftworkError):
        text = str(error) or type(error).__name__
    else:
        text = f"{type(error).__name__}: {error}"
    line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return line if len(line) <= MAX_MESSAGE_CHARS else line[: MAX_MESSAGE_CHARS - 3] + "..."


def failure_traceback(error: BaseException) -> str:
    """The failure's full traceback, ANSI colour codes stripped, at most MAX_TRACEBACK_CHARS (its tail)."""
    from papermill.exceptions import strip_color

    if isinstance(error, CellFailed):
        text = error.traceback_text
    elif isinstance(error, JobTimedOut | CellTimedOut | JobStopRequested):
        text = str(error)
    else:
        text = "".join(traceback.format_exception(error))
    text = strip_color(text).rstrip()
    if len(text) > MAX_TRACEBACK_CHARS:
        cut = len(text) - MAX_TRACEBACK_CHARS
        text = f"[... {cut} characters cut ...]\n" + text[-MAX_TRACEBACK_CHARS:]
    return text
