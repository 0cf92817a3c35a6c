"""`shiftwork excel`: serve an add-in module to Excel (Office.js and xlwings), and make its clients."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from shiftwork.cli.common import REMOTE, StateDirOption, console, fail, handle_errors, resolve_state_dir
from shiftwork.cli.dashboard import checked_port, stop_signals
from shiftwork.cli.excel_build import build
from shiftwork.cli.excel_xlwings import xlwings_udfs
from shiftwork.connection import RunningStack, client_for

if TYPE_CHECKING:
    from shiftwork.excel.protocol import Registry

excel_app = typer.Typer(help="Python functions as Excel worksheet functions.", no_args_is_help=True)
excel_app.command("xlwings")(xlwings_udfs)
excel_app.command("build")(build)
DEFAULT_PORT = 8443
ModuleArgument = Annotated[
    str | None,
    typer.Argument(help="A .py file (or importable module) defining an Addin; none: only the SHIFTWORK.* functions."),
]


class StackFacade(RunningStack):
    """The SHIFTWORK.* functions' Shiftwork: --endpoint's API, else the running `shiftwork up`'s, looked up on each
    use until one is found (so `up` may start after `serve`)."""

    def __init__(self, state_dir: Path) -> None:
        from shiftwork.excel import ExcelError

        super().__init__(state_dir, lambda: ExcelError("#N/A", "no Shiftwork stack: run `shiftwork up` in a terminal"))
        if REMOTE.endpoint is not None:
            self._client = client_for(REMOTE.endpoint, REMOTE.token, state_dir)

    def describe(self) -> str:
        try:
            return f"on the API at {self.client().endpoint}"
        except Exception:  # noqa: BLE001  shown, not raised: serve starts without a stack
            return "not available until `shiftwork up` runs (SHIFTWORK.* cells show #N/A until then)"


@excel_app.command("serve")
@handle_errors
def serve(
    module: ModuleArgument = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0 picks a free one).")] = DEFAULT_PORT,
    http: Annotated[
        bool, typer.Option("--http", help="Plain HTTP, no certificate (for xlwings and scripts; Office needs HTTPS).")
    ] = False,
    state_dir: StateDirOption = None,
) -> None:
    """Serve MODULE's functions and the Office.js add-in over HTTPS on localhost, beside `shiftwork up`."""
    from shiftwork.excel.loading import load_addins

    serve_addins(load_addins(module) if module else [], port=port, http=http, state_dir=state_dir)


def serve_addins(addins: list[Any], *, port: int, http: bool = False, state_dir: Path | None = None) -> None:
    """Serve these add-ins and SHIFTWORK.* until Ctrl-C (what `excel serve` and Addin.run do)."""
    from shiftwork.api.excel import shiftwork_addin
    from shiftwork.excel.protocol import Registry
    from shiftwork.local.dev_certificate import dev_certificate
    from shiftwork.local.excel_server import ExcelServer, excel_token

    missing = [name for name in ("cheroot", "cryptography") if importlib.util.find_spec(name) is None]
    if missing:
        raise fail(f"{', '.join(missing)} not installed: pip install -e '.[excel]' (the add-in server's extra)", 2)

    directory = resolve_state_dir(state_dir).expanduser()
    facade = StackFacade(directory)
    registry = Registry([*addins, shiftwork_addin(facade)])
    if port:
        checked_port("127.0.0.1", port)
    certificate = None if http else dev_certificate(directory)
    token = excel_token(directory)
    server = ExcelServer(
        registry,
        token=token,
        port=port,
        tls=None if certificate is None else (certificate.certificate, certificate.key),
    )
    static = build_static(registry, server.url, directory)
    server.static_dir = static
    stopping = stop_signals()
    server.start()
    try:
        _announce(server, registry, token, directory, certificate, facade, static)
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()


def build_static(registry: Registry, url: str, directory: Path) -> Path | None:
    """The Office.js add-in's files for this server's URL, or None (saying why) when they cannot be made here."""
    from shiftwork.excel.officejs import OfficeJsBuildError, build_officejs

    out = directory / "excel-addin"
    try:
        with console.status("building the Office.js add-in (custom-functions-metadata)"):
            build_officejs(registry.describe(), url, out)
    except OfficeJsBuildError as error:
        console.print(f"[yellow]no Office.js add-in[/]: {escape(str(error))} (xlwings and the API still work)")
        return None
    return out


def _announce(
    server: Any, registry: Registry, token: str, directory: Path, certificate: Any, facade: StackFacade, static: Any
) -> None:
    namespaces = [addin.namespace for addin in registry.addins]
    console.print(f"[bold green]Excel add-in[/]: {server.url} (Ctrl-C stops it)", highlight=False)
    console.print(f"  functions  {', '.join(f'{n}.*' for n in namespaces)}", highlight=False)
    console.print(f"  token      {token}  (paste it in the Shiftwork task pane; kept in {directory / 'excel-token'})")
    if static is not None:
        for namespace in namespaces:
            console.print(f"  manifest   {static / 'addins' / namespace.lower() / 'manifest.xml'}", highlight=False)
        console.print("             (in Excel: Home > Add-ins > More Settings > Upload My Add-in, one per namespace)")
    if certificate is not None:
        console.print(f"  trust the development certificate once: {certificate.trust_command()}", highlight=False)
    console.print(f"  SHIFTWORK.* functions {facade.describe()}", highlight=False)
