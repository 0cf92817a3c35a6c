"""`shiftwork excel build MODULE --url URL --out DIR`: the Office.js add-in's files for where they will be served."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shiftwork.cli.common import console, handle_errors


@handle_errors
def build(
    module: Annotated[
        str | None,
        typer.Argument(help="A .py file (or importable module) defining an Addin; none: only SHIFTWORK.* functions."),
    ] = None,
    url: Annotated[str, typer.Option("--url", help="Where DIR will be served (the manifests' URLs).")] = "",
    out: Annotated[Path, typer.Option("--out", help="The folder to write (made if missing).")] = Path("excel-addin"),
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Where the functions call, when not the same origin as --url (AWS)."),
    ] = None,
) -> None:
    """Write the Office.js add-in (a manifest, functions.js and functions.json per namespace) into DIR."""
    from shiftwork.api.excel import shiftwork_addin
    from shiftwork.errors import InvalidSpec
    from shiftwork.excel.loading import load_addins
    from shiftwork.excel.officejs import build_officejs
    from shiftwork.excel.protocol import Registry

    if not url:
        raise InvalidSpec("--url", url, "give where the files will be served, e.g. --url https://localhost:8443")
    addins = load_addins(module) if module else []
    registry = Registry([*addins, shiftwork_addin(None)])  # as `excel serve` has them; only their metadata is read
    manifests = build_officejs(registry.describe(), url, out, api_url=api_url)
    console.print(f"[bold green]Office.js add-in[/] written to {out}", highlight=False)
    for manifest in manifests:
        console.print(f"  manifest  {manifest}", highlight=False)
    console.print(f"  serve {out} at {url.rstrip('/')}/, then sideload a manifest in Excel", highlight=False)
