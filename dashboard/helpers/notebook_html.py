"""An executed notebook as HTML, with nbconvert's HTMLExporter (what Jupyter's own "Export as HTML" uses)."""

from __future__ import annotations

import nbformat
from nbconvert import HTMLExporter


def notebook_to_html(text: str) -> str:
    """The notebook's JSON text rendered as a standalone HTML page (inputs, outputs and tracebacks)."""
    notebook = nbformat.reads(text, as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return str(body)
