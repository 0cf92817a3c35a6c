"""The Excel add-in's context, read before anything is made: -c addin=path/to/pricer.py (a .py file, relative to
infra/ or absolute) deploys that module's add-in. A missing file, a folder, another kind of file or a name Python
cannot import is refused by name, saying how to fix it; so is a module that defines no Addin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from constructs import Construct

INFRA = Path(__file__).resolve().parents[1]  # where `cdk deploy` runs: relative paths are taken from here
FIX = "pass the add-in's Python file, -c addin=../examples/pricer.py (relative to infra/, or absolute)"


@dataclass(frozen=True)
class AddinSettings:
    """What -c addin=MODULE needs, read from the context."""

    path: Path  # the module's file, resolved
    namespaces: tuple[str, ...]  # its add-ins' namespaces (PRICER), in the order the module makes them

    @property
    def module(self) -> str:
        """The name it is imported by on Lambda (its layer puts the file at /opt/python/<stem>.py)."""
        return self.path.stem


def _refused(value: object, why: str) -> ValueError:
    return ValueError(f"context addin={value!r}: {why}; {FIX}")


def addin_settings(scope: Construct) -> AddinSettings | None:
    """The add-in's settings when -c addin is given, else None; a bad value is refused by name before anything
    is made."""
    value = scope.node.try_get_context("addin")
    if value is None or str(value).strip() == "":
        return None
    path = Path(str(value).strip()).expanduser()
    path = (path if path.is_absolute() else INFRA / path).resolve()
    if path.is_dir():
        raise _refused(value, f"{path} is a folder, not a Python file")
    if not path.is_file():
        raise _refused(value, f"there is no file {path}")
    if path.suffix != ".py":
        raise _refused(value, f"{path.name} is not a .py file")
    if not path.stem.isidentifier():
        raise _refused(
            value,
            f"{path.stem!r} cannot be imported as a module name: rename the file to a Python identifier "
            f"({path.stem.replace('-', '_')}.py)",
        )
    return AddinSettings(path, _namespaces(value, path))


def _namespaces(value: object, path: Path) -> tuple[str, ...]:
    """The module's add-ins' namespaces, by importing it as `shiftwork excel serve` does (its manifests are named
    by them): a module that fails to import, or defines no Addin, fails here rather than on its first call."""
    from shiftwork.errors import ShiftworkError
    from shiftwork.excel.loading import load_addins

    try:
        addins = load_addins(str(path))
    except ShiftworkError as error:
        raise _refused(value, str(error)) from None
    except Exception as error:  # noqa: BLE001 - the module's own code raised on import: say what, by name
        raise _refused(value, f"importing it raised {type(error).__name__}: {error}") from None
    namespaces = tuple(addin.namespace or "" for addin in addins)
    if "SHIFTWORK" in namespaces:
        raise _refused(value, "its add-in has the namespace SHIFTWORK, which the built-ins use: pass namespace=...")
    return namespaces
