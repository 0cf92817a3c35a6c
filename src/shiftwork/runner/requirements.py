"""A workflow's python_requirements in the runner: what the image lacks is installed for this task only."""

from __future__ import annotations

import logging
import subprocess
import sys
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)


def missing(requirements: list[str]) -> list[str]:
    """The requirements this interpreter does not satisfy (name absent, or a version outside the specifier)."""
    from packaging.requirements import Requirement

    absent = []
    for text in requirements:
        wanted = Requirement(text)
        try:
            version = metadata.version(wanted.name)
        except metadata.PackageNotFoundError:
            absent.append(text)
            continue
        if wanted.specifier and not wanted.specifier.contains(version, prereleases=True):
            absent.append(text)
    return absent


def ensure_requirements(requirements: list[str], target: Path) -> None:
    """pip install what is missing into `target` (put first on sys.path); RuntimeError saying what failed."""
    needed = missing(requirements)
    if not needed:
        return
    log.info("installing %s", ", ".join(needed))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            *needed,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"could not install {', '.join(needed)}: {' '.join(tail)}")
    sys.path.insert(0, str(target))
