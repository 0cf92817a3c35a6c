"""Shared test helpers: notebooks written with nbformat, sample events loaded from events/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def write_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """A notebook with a `parameters`-tagged cell followed by code cells."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    first = nbformat.v4.new_code_cell(parameters)
    first.metadata["tags"] = ["parameters"]
    notebook.cells = [first, *(nbformat.v4.new_code_cell(source) for source in cells)]
    nbformat.write(notebook, str(path))
    return path


def load_event(name: str, **replacements: str) -> dict[str, Any]:
    """A sample payload from events/, with placeholders like {{job_id}} filled in."""
    text = (EVENTS / name).read_text()
    for key, value in replacements.items():
        text = text.replace("{{" + key + "}}", value)
    return json.loads(text)


def cell_outputs(path: Path) -> list[str]:
    """The text every code cell printed or returned, in order."""
    notebook = nbformat.read(str(path), as_version=4)
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            elif "data" in output:
                texts.append(output["data"].get("text/plain", ""))
    return texts
