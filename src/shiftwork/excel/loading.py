"""The add-ins a module defines: `shiftwork excel serve pricer.py` (a file) or `... my_package.pricer` (importable)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from shiftwork.errors import InvalidSpec
from shiftwork.excel.addin import Addin


def load_module(target: str) -> ModuleType:
    """Import a .py file (its folder first on sys.path, for its own imports) or a dotted module name."""
    path = Path(target).expanduser()
    if target.endswith(".py") or path.exists():
        if not path.is_file():
            raise InvalidSpec("module", target, "no such file: give the path of a .py file or an importable module")
        name = path.stem
        if not name.isidentifier():
            raise InvalidSpec("module", target, "the file's name must be a Python identifier (pricer.py)")
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise InvalidSpec("module", target, "cannot be imported: give a .py file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)  # as a failed import does: no half-made module left for the next import
            raise
        return module
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        raise InvalidSpec("module", target, f"cannot be imported ({error}): give a .py file's path") from None


def addins_of(module: ModuleType) -> list[Addin]:
    """The Addin objects at the module's top level, in the order they were made."""
    found = [value for value in vars(module).values() if isinstance(value, Addin)]
    unique = list({id(addin): addin for addin in found}.values())
    if not unique:
        raise InvalidSpec(
            "module",
            module.__name__,
            'defines no Addin: add `addin = Addin("Name", "What it does")` and @addin.expose() its functions',
        )
    return unique


def load_addins(target: str) -> list[Addin]:
    return addins_of(load_module(target))
