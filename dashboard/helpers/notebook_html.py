"""An executed notebook as HTML, with nbconvert's HTMLExporter (what Jupyter's own "Export as HTML" uses)."""

from __future__ import annotations

from html import escape

import nbformat
from nbconvert import HTMLExporter


def notebook_to_html(text: str) -> str:
    """The notebook's JSON text rendered as a standalone HTML page (inputs, outputs and tracebacks)."""
    notebook = nbformat.reads(text, as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return str(body)


def sandboxed(html: str, height: int) -> str:
    """The page in an iframe of its own, sandboxed without allow-same-origin: a notebook's scripts (plots, widgets)
    run in an opaque origin, so they cannot reach the dashboard's page, its session or its cookies."""
    return (
        '<body style="margin:0"><iframe title="executed notebook" sandbox="allow-scripts allow-popups" '
        f'style="width:100%;height:{height}px;border:0" srcdoc="{escape(html, quote=True)}"></iframe></body>'
    )
