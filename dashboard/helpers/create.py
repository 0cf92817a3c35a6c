"""The Create page's pure parts: a notebook's parameters cell as form fields, the values a user changed, and which
widget an InvalidSpec belongs beside."""

from __future__ import annotations

import ast
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shiftwork.errors import InvalidSpec

Kind = Literal["int", "float", "bool", "str", "json"]
_ANNOTATED: dict[str, Kind] = {"int": "int", "float": "float", "bool": "bool", "str": "str"}
NOT_A_LITERAL = object()  # a default papermill cannot show as a value (`datetime.now()`): the notebook keeps it


@dataclass(frozen=True)
class ParameterField:
    """One variable of the notebook's parameters cell, as a form shows it."""

    name: str
    kind: Kind
    default: Any  # the default as a Python value, or NOT_A_LITERAL
    written: str  # the default as the cell writes it
    help: str

    @property
    def initial_text(self) -> str:
        """What a JSON text input starts with: the default as JSON, or empty when it is not a literal."""
        if self.default is NOT_A_LITERAL:
            return ""
        try:
            return json.dumps(self.default)
        except (TypeError, ValueError):  # a tuple of sets... : shown as written
            return self.written


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return NOT_A_LITERAL


def field_kind(annotation: str, default: Any) -> Kind:
    """The widget a parameter gets: its annotation's type if it names one, else its default's (bool before int)."""
    if annotation in _ANNOTATED:
        return _ANNOTATED[annotation]
    for kind, python_type in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if type(default) is python_type:
            return kind  # type: ignore[return-value]
    return "json"


def parameter_fields(notebook: Path) -> list[ParameterField]:
    """The notebook's parameters cell as fields, in the cell's order (papermill.inspect_notebook reads it)."""
    import nbformat
    import papermill

    node = nbformat.read(str(notebook), as_version=4)
    if not node.metadata.get("kernelspec", {}).get("name"):
        # papermill's own rule when running it: a notebook without a kernelspec runs on python3
        node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "notebook.ipynb"
        nbformat.write(node, str(copy))
        inspected = papermill.inspect_notebook(str(copy))
    fields = []
    for name, found in inspected.items():
        written = str(found.get("default", ""))
        default = _literal(written)
        kind = field_kind(str(found.get("inferred_type_name", "None")), default)
        if kind == "float" and type(default) is int:
            default = float(default)
        fields.append(ParameterField(name, kind, default, written, str(found.get("help") or "")))
    return fields


def read_value(field: ParameterField, value: Any) -> Any:
    """A widget's value as the parameter's: JSON fields parse their text (as the CLI's -p reads VALUE)."""
    if field.kind != "json":
        return value
    if not str(value).strip():
        return NOT_A_LITERAL
    try:
        return json.loads(value)
    except ValueError:
        raise InvalidSpec(
            f"parameters.{field.name}", value, 'give a JSON value, such as [1, 2], {"a": 1}, "text" or null'
        ) from None


def changed_parameters(fields: list[ParameterField], values: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters whose value differs from the notebook's default: the rest stay the notebook's own."""
    changed = {}
    for field in fields:
        if field.name not in values:
            continue
        value = read_value(field, values[field.name])
        if value is NOT_A_LITERAL or (value == field.default and type(value) is type(field.default)):
            continue
        changed[field.name] = value
    return changed


# An InvalidSpec's field, as the slot of the form it is shown under
_SLOTS = {
    "schedule": "schedule",
    "cron": "schedule",
    "trigger": "schedule",
    "trigger type": "schedule",
    "interval": "schedule",
    "calendarinterval": "schedule",
    "jitter": "schedule",
    "end_date": "schedule",
    "timezone": "timezone",
    "output format": "formats",
    "output_formats": "formats",
    "kernel": "kernel",
    "kernel_name": "kernel",
    "name": "name",
    "parameters": "parameters",
    "parameter name": "parameters",
    "notebook": "notebook",
    "input_uri": "notebook",
}


def error_slot(field: str) -> str:
    """The form slot (schedule, timezone, formats, kernel, name, parameters, notebook; else form) an error names."""
    head = field.split(".")[0].strip()
    if head == "parameters" and "." in field:
        return f"parameters.{field.split('.', 1)[1]}"
    return _SLOTS.get(head, _SLOTS.get(field, "form"))


def field_error(error: Exception) -> tuple[str, str]:
    """An InvalidSpec or pydantic ValidationError as (the slot it is shown under, its message)."""
    from pydantic import ValidationError

    from shiftwork.models.limits import as_invalid_spec

    spec = as_invalid_spec(error) if isinstance(error, ValidationError) else error
    if isinstance(spec, InvalidSpec):
        return error_slot(spec.field), str(spec)
    return "form", str(error)
