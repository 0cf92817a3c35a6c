"""What a run leaves behind: the requested formats (nbconvert) and the side-effect files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shiftwork.models import OUTPUT_FORMATS


@dataclass(frozen=True)
class FileStamp:
    size: int
    mtime_ns: int


def snapshot_tree(folder: Path) -> dict[str, FileStamp]:
    """Relative path -> stamp of every regular file under folder (symlinks are not followed)."""
    stamps = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            if path.is_symlink() or not path.is_file():
                continue
            stat = path.stat()
            stamps[path.relative_to(folder).as_posix()] = FileStamp(stat.st_size, stat.st_mtime_ns)
    return stamps


def side_effect_files(folder: Path, before: dict[str, FileStamp]) -> dict[str, Path]:
    """Files the notebook created or changed in its working directory while it ran."""
    after = snapshot_tree(folder)
    return {
        relative: folder / relative
        for relative, stamp in sorted(after.items())
        if before.get(relative) != stamp and "/.ipynb_checkpoints/" not in f"/{relative}"
    }


def convert(notebook_path: Path, formats: list[str], out_dir: Path, report_mode: bool = False) -> dict[str, Path]:
    """Write each requested format of the executed notebook; returns {format: path}. ipynb is the input itself.

    report_mode leaves code cells' input out of the documents (papermill only marks it hidden in the notebook,
    which nbconvert ignores); a script is code, so it keeps it.
    """
    made: dict[str, Path] = {"ipynb": notebook_path} if "ipynb" in formats else {}
    if not set(formats) - {"ipynb"}:
        return made  # nothing to convert: do not pay for importing nbconvert
    import nbconvert
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    for name in formats:
        spec = OUTPUT_FORMATS[name]
        if name == "ipynb":
            continue
        hide = report_mode and name != "script"
        exporter = nbconvert.get_exporter(spec.exporter)(exclude_input=hide, exclude_input_prompt=hide)
        body, resources = exporter.from_notebook_node(notebook)
        extension = spec.extension or resources.get("output_extension", ".txt").lstrip(".")
        target = out_dir / f"{notebook_path.stem}.{extension}"
        target.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
        made[name] = target
    return made
