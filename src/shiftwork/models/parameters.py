"""Notebook parameters: names that are Python identifiers, values typed the way the CLI reads them."""

from __future__ import annotations

import json
import keyword
from typing import Any

from shiftwork.errors import InvalidSpec


def check_parameter_name(name: str) -> str:
    """Return `name` if papermill can inject it as a variable, else raise InvalidSpec."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InvalidSpec(
            "parameter name",
            name,
            "must be a Python identifier (letters, digits and _, not starting with a digit, not a keyword)",
        )
    return name


def check_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Return `parameters` if every name is injectable and all of them fit a job's record, else raise InvalidSpec."""
    from shiftwork.models.limits import check_parameters_size

    for name in parameters:
        check_parameter_name(name)
    return check_parameters_size(parameters)


def parse_value(text: str) -> Any:
    """VALUE is read as JSON when it parses as JSON (3, 2.5, true, null, [1,2], {"a": 1}), else as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_parameter(text: str) -> tuple[str, Any]:
    """Parse one `NAME=VALUE` from the command line."""
    name, sep, value = text.partition("=")
    if not sep:
        raise InvalidSpec("parameter", text, "write it as NAME=VALUE, e.g. -p n=3 or -p name=World")
    return check_parameter_name(name.strip()), parse_value(value)


def parse_parameters(texts: list[str]) -> dict[str, Any]:
    """Parse every `-p NAME=VALUE`; a name given twice is an error, not a silent overwrite."""
    parameters: dict[str, Any] = {}
    for text in texts:
        name, value = parse_parameter(text)
        if name in parameters:
            raise InvalidSpec("parameter", name, "is given more than once; pass each -p NAME=VALUE once")
        parameters[name] = value
    return parameters
