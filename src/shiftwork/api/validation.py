"""Checks made at submit time, so that bad input is refused before anything is created."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftwork.errors import InvalidSpec
from shiftwork.models import OUTPUT_FORMATS

if TYPE_CHECKING:
    from nbformat import NotebookNode

MAX_FOLDER_FILES = 2000
MAX_FOLDER_BYTES = 512 * 1024 * 1024
SKIPPED_DIRS = {".git", ".ipynb_checkpoints", "__pycache__", ".venv", "node_modules", ".mypy_cache"}


DEFAULT_KERNEL = "python3"


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


def installed_kernels() -> dict[str, dict[str, str]]:
    """{name: {display_name, language}} of the kernels jobs can use: the runner image's (SHIFTWORK_RUNNER_KERNELS,
    set on AWS, where the API does not run where jobs do), else this machine's."""
    from shiftwork.config import get_settings

    configured = get_settings().runner_kernels
    if configured:
        return {name: {"display_name": name, "language": "python"} for name in configured}
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().get_all_specs()
    return {
        name: {"display_name": spec["spec"].get("display_name", name), "language": spec["spec"].get("language")}
        for name, spec in sorted(specs.items())
    }


def check_kernel(kernel_name: str, source: str = "--kernel") -> None:
    """The kernel is installed where the runner runs (this machine for the embedded stack, the runner image on AWS):
    else papermill's NoSuchKernel, as a refusal that names the kernel, where it came from and the fix."""
    installed = sorted(installed_kernels())
    if kernel_name not in installed:
        raise InvalidSpec(
            "kernel",
            kernel_name,
            f"is not installed (no such kernel, named by {source}); available: {', '.join(installed) or '(none)'}: "
            "pass --kernel NAME to run "
            "it with one of them, or install it where jobs run (for Python: python -m ipykernel install --user "
            "--name NAME)",
        )


def resolve_kernel(notebook: Any, requested: str | None) -> str:
    """The kernel a job runs with, papermill's and Jupyter Scheduler's rule: --kernel if given, else the notebook's
    kernelspec, else an installed kernel of the notebook's language, else python3; refused unless installed."""
    if requested:
        check_kernel(requested)
        return requested
    metadata = notebook.get("metadata", {})
    named = (metadata.get("kernelspec") or {}).get("name")
    if named:
        check_kernel(named, "the notebook's kernelspec")
        return str(named)
    language = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get("language")
    if not language or str(language).lower() == "python":
        check_kernel(DEFAULT_KERNEL, "the default, as the notebook names no kernel")
        return DEFAULT_KERNEL
    kernels = installed_kernels()
    for name, spec in kernels.items():
        if str(spec.get("language") or "").lower() == str(language).lower():
            return name
    raise InvalidSpec(
        "kernel",
        f"for language {language}",
        f"none is installed (available: {', '.join(sorted(kernels)) or 'none'}): "
        "pass --kernel NAME to run it with one of them, or install a kernel for it",
    )


def check_formats(formats: list[str]) -> None:
    """Each format is known and its converter is installed."""
    for name in formats:
        spec = OUTPUT_FORMATS.get(name)
        if spec is None:
            raise InvalidSpec("output format", name, f"is unknown: use one of {', '.join(OUTPUT_FORMATS)}")
        if spec.requires and shutil.which(spec.requires) is None:
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
