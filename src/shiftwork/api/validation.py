"""Checks made at submit time, so that bad input is refused before anything is created."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from shiftwork.errors import InvalidSpec
from shiftwork.models import OUTPUT_FORMATS
from shiftwork.models.formats import OutputFormat
from shiftwork.runner.kernels import check_kernel, installed_kernels, resolve_kernel

__all__ = ["check_formats", "check_kernel", "check_notebook", "folder_files", "installed_kernels", "resolve_kernel"]

if TYPE_CHECKING:
    from nbformat import NotebookNode

MAX_FOLDER_FILES = 2000
MAX_FOLDER_BYTES = 512 * 1024 * 1024
SKIPPED_DIRS = {".git", ".ipynb_checkpoints", "__pycache__", ".venv", "node_modules", ".mypy_cache"}


def check_notebook(path: Path) -> NotebookNode:
    """The file exists and is a Jupyter notebook that nbformat can read; returns it."""
    if not path.exists():
        raise InvalidSpec("notebook", str(path), "does not exist: check the path")
    if not path.is_file():
        raise InvalidSpec("notebook", str(path), "is not a file: give the path of an .ipynb notebook")
    import nbformat

    try:
        notebook = nbformat.read(str(path), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise InvalidSpec(
            "notebook", str(path), f"is not a Jupyter notebook ({reason}): give an .ipynb file"
        ) from error
    return notebook


def available_formats() -> list[OutputFormat]:
    """The output formats whose converter is installed here: what check_formats accepts."""
    return [spec for spec in OUTPUT_FORMATS.values() if not spec.requires or shutil.which(spec.requires)]


def check_formats(formats: list[str]) -> None:
    """Each format is known and its converter is installed."""
    for name in formats:
        spec = OUTPUT_FORMATS.get(name)
        if spec is None:
            raise InvalidSpec("output format", name, f"is unknown: use one of {', '.join(OUTPUT_FORMATS)}")
        if spec not in available_formats():
            raise InvalidSpec(
                "output format",
                name,
                f"needs {spec.requires}, which is not installed: install it (Debian: apt-get install "
                "texlive-xetex) or choose another format such as html",
            )


def folder_files(folder: Path) -> dict[str, Path]:
    """{relative path: file} of the folder packaged with a notebook, within the size limits."""
    found: dict[str, Path] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in SKIPPED_DIRS for part in relative.parts) or path.is_symlink() or not path.is_file():
            continue
        found[relative.as_posix()] = path
        total += path.stat().st_size
        if len(found) > MAX_FOLDER_FILES or total > MAX_FOLDER_BYTES:
            raise InvalidSpec(
                "input folder",
                str(folder),
                f"holds more than {MAX_FOLDER_FILES} files or {MAX_FOLDER_BYTES >> 20} MiB: "
                "move the notebook into a smaller folder",
            )
    return found
