"""A job's files for JupyterLab's "Download job files": fetched from Shiftwork into the staging area and packed as
one archive under Jupyter Scheduler's names, which its JobFilesManager unpacks into the user's Jupyter root
(jobs/<notebook>-<job id>/): the outputs, the input notebook and the files the notebook wrote."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import Any

from shiftwork.api.service import INPUT_FOLDER


def stage(backend: Any, job: Any, names: dict[str, Any], staging: Path) -> dict[str, str]:
    """Download `job`'s files into staging/<job id>/ and pack them as Jupyter Scheduler names them (`names`, from
    get_job_filenames); returns the staging paths, the archive first ({"tar.gz": path, format: name, ...})."""
    folder = staging / job.job_id
    shutil.rmtree(folder, ignore_errors=True)
    fetched = folder / "fetched"
    backend.download_job_files(job.job_id, fetched, include_input=True)
    members = _members(job, names, fetched)
    archive = folder / "job-files.tar.gz"  # gzip: JobFilesManager's plain-tar branch cannot open its archive
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for name, path in members.items():
            tar.add(path, arcname=name, recursive=False)
    paths = {"tar.gz": str(archive)}
    paths.update({fmt: names[fmt] for fmt in job.output_formats if fmt in names})
    paths["input"] = names["input"]
    return paths


def _members(job: Any, names: dict[str, Any], fetched: Path) -> dict[str, Path]:
    """{name in the archive: fetched file}: the input folder (if it ran with it), the input notebook, the files it
    wrote (over the folder's own), then each output format."""
    members: dict[str, Path] = {}
    inputs = fetched / INPUT_FOLDER
    if job.package_input_folder:
        members.update(_tree(inputs))
    if (inputs / job.input_filename).is_file():
        members[names["input"]] = inputs / job.input_filename
    members.update(_tree(fetched / "files"))
    for fmt, stored in job.output_names().items():
        if fmt in names and (fetched / stored).is_file():
            members[names[fmt]] = fetched / stored
    return members


def _tree(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}


def discard(staging: Path, job_id: str) -> None:
    shutil.rmtree(staging / job_id, ignore_errors=True)
