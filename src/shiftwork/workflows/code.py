"""Where a workflow's code lives: the module's folder (its snapshot), the names the runner imports, loading one."""

from __future__ import annotations

import importlib.util
import keyword
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from shiftwork.errors import InvalidSpec

if TYPE_CHECKING:
    from shiftwork.workflows.define import Workflow

SKIPPED_DIRS = frozenset({".venv", "venv", "__pycache__", ".git", ".ipynb_checkpoints", "node_modules"})
MAX_CODE_BYTES = 50 << 20  # a snapshot every task's container downloads before it starts
MAX_CODE_FILES = 2000
_AT_MODULE_LEVEL = "define it at module level in a .py file (the runner imports it by module and name)"


def check_importable(fn: Any, where: str) -> None:
    """InvalidSpec unless `fn` is a plain module-level function of a module with a file."""
    qualname = getattr(fn, "__qualname__", repr(fn))
    if getattr(fn, "__name__", "") == "<lambda>":
        raise InvalidSpec(where, qualname, f"is a lambda: {_AT_MODULE_LEVEL}")
    if "<locals>" in qualname:
        raise InvalidSpec(where, qualname, f"is defined inside another function: {_AT_MODULE_LEVEL}")
    if "." in qualname:
        raise InvalidSpec(where, qualname, f"is defined inside a class: {_AT_MODULE_LEVEL}")
    if module_file(fn) is None:
        raise InvalidSpec(
            where,
            f"{fn.__module__}:{qualname}",
            f"is defined where no file holds it (a notebook or an interactive session): {_AT_MODULE_LEVEL}",
        )


def module_file(fn: Any) -> Path | None:
    """The .py file of the module that defines `fn`, None for a notebook's or a REPL's __main__."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file and str(file).endswith(".py") else None


def module_name(file: Path, folder: Path) -> str | None:
    """The dotted name `file` is imported by with `folder` on sys.path, None if it cannot be."""
    try:
        parts = list(file.relative_to(folder).with_suffix("").parts)
    except ValueError:
        return None
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(part.isidentifier() and not keyword.iskeyword(part) for part in parts):
        return None
    return ".".join(parts)


def reference(fn: Any, obj: Any, folder: Path, where: str) -> str:
    """`module:qualname` by which the runner imports `obj` (fn or its Task or Workflow) from `folder`'s snapshot."""
    check_importable(fn, where)
    file = module_file(fn)
    assert file is not None
    name = module_name(file, folder)
    if name is None:
        raise InvalidSpec(
            where,
            f"{fn.__module__}:{fn.__qualname__}",
            f"is defined in {file}, which cannot be imported from the "
            f"workflow's folder {folder} (the snapshot holds only that folder): move it into the workflow's module "
            "or a module beside it",
        )
    check_module_name(name, where)
    found = getattr(sys.modules[fn.__module__], fn.__qualname__, None)
    if found is not obj and found is not fn:
        raise InvalidSpec(
            where,
            f"{name}:{fn.__qualname__}",
            f"does not name it in {file.name}: keep the decorated function under "
            "its own name at module level (@task above its def)",
        )
    return f"{name}:{fn.__qualname__}"


def check_module_name(name: str, where: str) -> None:
    """A module the runner imports must not shadow the standard library or Shiftwork itself."""
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or top == "shiftwork":
        raise InvalidSpec(where, name, f"is the name of the {top!r} module Python or Shiftwork needs: rename the file")


def notebook_path(folder: Path, path: str | Path, where: str) -> str:
    """A notebook task's path relative to the workflow's folder, which it must be in."""
    target = Path(path) if Path(path).is_absolute() else folder / path
    resolved, root = target.resolve(), folder.resolve()
    try:
        relative = resolved.relative_to(root)
    except ValueError:
        raise InvalidSpec(
            where,
            str(path),
            f"is outside the workflow's folder {root} (the snapshot holds only that folder): move the notebook into it",
        ) from None
    if resolved.suffix != ".ipynb":
        raise InvalidSpec(where, str(path), "names a Jupyter notebook: give the path of an .ipynb file")
    if not resolved.is_file():
        raise InvalidSpec(where, str(path), f"there is no such notebook in {root}: give its path from there")
    if any(_skipped(part) for part in relative.parts[:-1]):
        raise InvalidSpec(where, str(path), "is in a folder the code snapshot leaves out: move it out of there")
    return relative.as_posix()


def _skipped(directory: str) -> bool:
    return directory in SKIPPED_DIRS or directory.startswith(".")


def code_files(folder: Path) -> dict[str, Path]:
    """A snapshot of `folder`: relative path -> file; environments, caches and hidden files (.env) left out."""
    found: dict[str, Path] = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if not _skipped(name))
        for name in sorted(files):
            path = Path(root, name)
            if not name.startswith(".") and not name.endswith(".pyc") and path.is_file():
                found[path.relative_to(folder).as_posix()] = path
    _check_size(folder, found)
    return found


def _check_size(folder: Path, files: dict[str, Path]) -> None:
    sizes = {name: path.stat().st_size for name, path in files.items()}
    total = sum(sizes.values())
    if total <= MAX_CODE_BYTES and len(files) <= MAX_CODE_FILES:
        return
    biggest = sorted(sizes, key=lambda name: -sizes[name])[:3]
    listed = ", ".join(f"{name} ({sizes[name] / (1 << 20):.1f} MB)" for name in biggest)
    raise InvalidSpec(
        "code folder",
        str(folder),
        f"holds {len(files)} files, {total / (1 << 20):.1f} MB; a snapshot holds at "
        f"most {MAX_CODE_FILES} files, {MAX_CODE_BYTES >> 20} MB. The biggest: {listed}. Keep data in S3, or "
        "in a hidden folder, not beside the workflow",
    )


def load_workflow(target: str) -> Workflow:
    """The @workflow `pipeline.py:daily` names (or pipeline.py's only one), imported as the runner will import it."""
    # as module "pipeline" with its folder on sys.path, so that modules beside it import as they will there
    file, sep, attribute = target.rpartition(":")
    if not sep or "/" in attribute or "\\" in attribute or attribute.endswith(".py"):
        file, attribute = target, ""
    path = Path(file).expanduser()
    if path.suffix != ".py":
        raise InvalidSpec("workflow", target, "name a Python file and the workflow in it, e.g. pipeline.py:daily")
    if not path.is_file():
        raise InvalidSpec("workflow", target, f"there is no file {path}: give the .py file that defines the workflow")
    return _find_workflow(_import_file(path.resolve(), target), attribute, target)


def _import_file(path: Path, target: str) -> ModuleType:
    name = path.stem
    if not name.isidentifier() or keyword.iskeyword(name):
        raise InvalidSpec(
            "workflow",
            target,
            "the file's name is the module name the runner imports: make it an "
            "identifier (letters, digits and _), e.g. pipeline.py",
        )
    check_module_name(name, "workflow")
    existing = sys.modules.get(name)
    if existing is not None:
        known = getattr(existing, "__file__", None)
        if known and Path(known).resolve() == path:
            return existing
        raise InvalidSpec("workflow", target, f"module {name!r} is already imported from {known}: rename the file")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))  # modules beside it import as they will in the runner
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        if isinstance(error, InvalidSpec):
            raise
        raise InvalidSpec("workflow", target, f"importing it raised {type(error).__name__}: {error}") from error
    return module


def _find_workflow(module: ModuleType, attribute: str, target: str) -> Workflow:
    from shiftwork.workflows.define import Workflow

    workflows = [name for name, value in vars(module).items() if isinstance(value, Workflow)]
    file = Path(module.__file__ or target).name
    if not attribute:
        if len(workflows) == 1:
            return getattr(module, workflows[0])
        fix = f"name one: {file}:{workflows[0]}" if workflows else "decorate a function in it with @workflow"
        raise InvalidSpec("workflow", target, f"{file} defines {len(workflows)} workflows: {fix}")
    value = getattr(module, attribute, None)
    if value is None:
        raise InvalidSpec(
            "workflow", target, f"{file} has no {attribute!r}; its workflows: {', '.join(workflows) or 'none'}"
        )
    if not isinstance(value, Workflow):
        raise InvalidSpec(
            "workflow",
            target,
            f"{attribute!r} is a {type(value).__name__}, not a workflow: decorate its function with @workflow",
        )
    return value
