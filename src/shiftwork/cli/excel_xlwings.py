"""`shiftwork excel xlwings MODULE`: write MODULE's functions (and SHIFTWORK.*) as an xlwings UDF module."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiftwork.cli.common import StateDirOption, console, handle_errors, resolve_state_dir
from shiftwork.errors import InvalidSpec

if TYPE_CHECKING:
    from shiftwork.excel.protocol import Registry

DEFAULT_URL = "https://localhost:8443"  # `shiftwork excel serve`'s default port, over its development certificate
TOKEN_FILE = "excel-token"  # in the state directory, as `shiftwork excel serve` keeps it
CA_FILE = Path("excel-tls") / "ca.pem"


@handle_errors
def xlwings_udfs(
    module: Annotated[
        str | None,
        typer.Argument(
            help="A .py file (or importable module) defining an Addin; none: the SHIFTWORK.* functions only."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The module to write \\[default: MODULE_udfs.py here]."),
    ] = None,
    url: Annotated[
        str,
        typer.Option("--url", help="The server `shiftwork excel serve` runs (SHIFTWORK_EXCEL_URL overrides it)."),
    ] = DEFAULT_URL,
    state_dir: StateDirOption = None,
) -> None:
    """Write an xlwings UDF module whose functions call MODULE's on `shiftwork excel serve` (Excel on Windows)."""
    from shiftwork.api.excel import shiftwork_addin
    from shiftwork.excel.loading import load_addins
    from shiftwork.excel.protocol import Registry
    from shiftwork.excel.xlwings_udfs import checked_module_name, home_relative, write_udf_module

    if not url.startswith(("http://", "https://")):
        raise InvalidSpec("--url", url, "give the server's address, like https://localhost:8443")
    directory = resolve_state_dir(state_dir)
    stem = (Path(module).stem if module.endswith(".py") else module.rsplit(".", 1)[-1]) if module else "shiftwork"
    out = output or Path(f"{stem}_udfs.py")
    checked_module_name(out)  # before the module is imported: a bad name changes nothing
    addins = load_addins(module) if module else []
    registry = Registry([*addins, shiftwork_addin(None)])  # as `excel serve` has them; only their metadata is read
    written = write_udf_module(
        registry.describe(),
        url.rstrip("/"),
        out,
        source=module or "the SHIFTWORK.* functions",
        token_file=home_relative(directory / TOKEN_FILE),
        ca_file=home_relative(directory / CA_FILE) if url.startswith("https://") else None,
    )
    _announce(written, registry)


def _announce(written: Path, registry: Registry) -> None:
    from shiftwork.excel.xlwings_udfs import udf_name

    names = [udf_name(f) for addin in registry.describe().addins for f in addin.functions]
    console.print(f"[bold green]Wrote[/] {written} ({len(names)} functions: {', '.join(names)})", highlight=False)
    console.print(
        f"In Excel on Windows, without the xlwings add-in: `pip install xlwings`, `xlwings quickstart BOOK "
        f"--standalone`, put {written.name} beside BOOK.xlsm, set UDF Modules to {written.stem} on the xlwings.conf "
        "sheet, run the ImportPythonUDFs macro (Alt+F8); then =" + (names[0] if names else "...") + "(...) in a cell. "
        "Steps: addin/xlwings/README.md",
        highlight=False,
    )
