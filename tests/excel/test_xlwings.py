"""`shiftwork excel xlwings`: the generated UDF module imported here and its functions called as xlwings calls them
(2-D lists for ranges, datetimes for date cells, None for empty ones) against the real add-in server."""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import inspect
import io
import socket
import sys
import typing
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

import pytest
import typer
from typer.testing import CliRunner

from shiftwork.cli.excel_xlwings import xlwings_udfs
from shiftwork.excel.values import to_serial
from shiftwork.excel.xlwings_udfs import vba_safe, write_udf_module

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "addin" / "xlwings" / "pricer_udfs.py"
SETTINGS = ("SHIFTWORK_EXCEL_URL", "SHIFTWORK_EXCEL_TOKEN", "SHIFTWORK_EXCEL_CA")


def _import(path: Path) -> ModuleType:
    """The generated file imported by path, as xlwings imports a UDF module (by name, from PYTHONPATH)."""
    name = f"xlwings_udfs_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _generate(server: object, folder: Path, *, ca_file: str | None = None) -> ModuleType:
    folder.mkdir(parents=True, exist_ok=True)
    token_file = folder / "excel-token"
    token_file.write_text(server.token)  # type: ignore[attr-defined]
    out = write_udf_module(
        server.registry.describe(),  # type: ignore[attr-defined]
        server.url,  # type: ignore[attr-defined]
        folder / "pricer_udfs.py",
        source="examples/pricer.py",
        token_file=str(token_file),
        ca_file=ca_file,
    )
    return _import(out)


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def udfs(excel_server: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    module = _generate(excel_server, tmp_path_factory.mktemp("udfs"))
    yield module
    sys.modules.pop(module.__name__, None)


def test_price_option_is_the_python_function(udfs: ModuleType, pricer_module: ModuleType) -> None:
    for args in [(100, 95, 0.2, 0.01, 1), (100.0, 110.0, 0.35, 0.03, 0.25), (42, 40, 0.5, 0.0, 2.0)]:
        assert udfs.PRICER_PRICE_OPTION(*args) == pricer_module.price_option(*args)
        assert udfs.PRICER_PRICE_OPTION(*args, False) == pricer_module.price_option(*args, call=False)
    # an empty optional cell (xlwings hands None) takes the Python default: a call
    assert udfs.PRICER_PRICE_OPTION(100, 95, 0.2, 0.01, 1, None) == pricer_module.price_option(100, 95, 0.2, 0.01, 1)


def test_grid_takes_and_spills_rows(udfs: ModuleType, pricer_module: ModuleType) -> None:
    spots = [[80.0, 90.0, 100.0], [110.0, 120.0, 130.0]]
    assert udfs.PRICER_GRID(spots, 100) == pricer_module.grid(spots, 100)
    assert udfs.PRICER_GRID([[95.0]], 100, 0.3) == pricer_module.grid([[95.0]], 100, 0.3)  # one cell: ndim=2 rows
    empty = udfs.PRICER_GRID([[95.0, None]], 100)  # an empty cell in the range: xlwings hands None
    assert empty.startswith("#VALUE! spots row 1, column 2 is empty")


def test_year_fraction_takes_date_cells(udfs: ModuleType, pricer_module: ModuleType) -> None:
    expected = pricer_module.year_fraction(date(2027, 6, 30), date(2026, 12, 1))
    assert udfs.PRICER_YEAR_FRACTION(datetime(2027, 6, 30), datetime(2026, 12, 1)) == expected  # xlwings: datetime
    assert udfs.PRICER_YEAR_FRACTION(date(2027, 6, 30), date(2026, 12, 1)) == expected  # dates="date" option
    aware = datetime(2027, 6, 30, tzinfo=UTC)  # pywin32's dates carry a time zone: the cell's wall time counts
    assert udfs.PRICER_YEAR_FRACTION(aware, datetime(2026, 12, 1)) == expected
    serials = to_serial(date(2027, 6, 30)), to_serial(date(2026, 12, 1))
    assert udfs.PRICER_YEAR_FRACTION(*serials) == expected  # serial numbers typed in the formula


def test_an_error_cell_says_what_to_fix_never_a_traceback(udfs: ModuleType) -> None:
    assert udfs.PRICER_PRICE_OPTION("x", 95, 0.2, 0.01, 1) == "#VALUE! spot is the text 'x': give a number"
    assert (
        udfs.PRICER_PRICE_OPTION(-1, 95, 0.2, 0.01, 1) == "#NUM! spot and strike must be positive (spot -1, strike 95)"
    )
    assert udfs.PRICER_PRICE_OPTION(None, 95, 0.2, 0.01, 1) == "#VALUE! spot is empty: give a number"
    assert udfs.PRICER_PRICE_OPTION("#N/A", 95, 0.2, 0.01, 1).startswith("#VALUE! spot is the text '#N/A'")
    text = udfs.PRICER_YEAR_FRACTION(datetime(2020, 1, 1), datetime(2026, 12, 1))
    assert text.startswith("#NUM! expiry 2020-01-01 is not after 2026-12-01")
    assert "Traceback" not in text


def test_a_wrong_token_says_to_set_it(udfs: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIFTWORK_EXCEL_TOKEN", "not-the-token")
    text = udfs.PRICER_PRICE_OPTION(100, 95, 0.2, 0.01, 1)
    assert text.startswith("#VALUE! the Shiftwork server refused the token: set SHIFTWORK_EXCEL_TOKEN")
    assert udfs.PRICER_TICKER(100).startswith("#VALUE! the Shiftwork server refused the token")


def test_no_server_says_how_to_start_one(udfs: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("SHIFTWORK_EXCEL_URL", f"http://127.0.0.1:{port}")
    text = udfs.PRICER_PRICE_OPTION(100, 95, 0.2, 0.01, 1)
    assert text.startswith(f"#N/A cannot reach the Shiftwork server at http://127.0.0.1:{port}")
    assert "shiftwork excel serve" in text


def test_a_streaming_cell_shows_its_first_value(udfs: ModuleType) -> None:
    assert udfs.PRICER_TICKER(101.5) == 101.5
    assert udfs.PRICER_TICKER("x") == "#VALUE! spot is the text 'x': give a number"
    assert udfs.SHIFTWORK_STATUS("no-such-job") == "#N/A no job has the id 'no-such-job'"


def test_shiftwork_functions(udfs: ModuleType, excel_registry: object) -> None:
    fires = udfs.SHIFTWORK_NEXT_FIRES("0 9 * * mon-fri", "Europe/London", 3)
    direct = excel_registry.find("SHIFTWORK.NEXT_FIRES").call(["0 9 * * mon-fri", "Europe/London", 3])  # type: ignore[attr-defined]
    assert fires == direct and len(fires) == 3 and all(len(row) == 1 for row in fires)  # a column of serials
    from shiftwork.api.excel import JOB_COLUMNS

    assert udfs.SHIFTWORK_JOBS()[0] == JOB_COLUMNS
    assert udfs.SHIFTWORK_JOBS("NOPE").startswith("#VALUE! status 'NOPE': give one of CREATED, QUEUED")
    # RUN's name/value pairs are *args; an unknown definition is named in the cell
    run = udfs.SHIFTWORK_RUN("no-such-definition", "day", datetime(2026, 12, 1))
    assert run == "#N/A no job definition is named or has the id 'no-such-definition'"


XLWINGS_UDF_CODE = ("func_sig", "get_category", "get_async_mode", "check_bool", "extract_type_and_annotations")
XLWINGS_DECORATORS = ("xlfunc", "xlarg", "xlret", "generate_vba_wrapper")


@pytest.fixture(scope="module")
def windows_xlwings() -> ModuleType:
    """xlwings' decorators as Windows has them: on other systems `xw.func` does nothing, and xlwings/udfs.py imports
    pywin32. Its functions that record a UDF (`__xlfunc__`) and write its VBA wrapper, taken from the installed
    xlwings/udfs.py and run as they are, without the module's COM imports."""
    import xlwings
    from xlwings.utils import VBAWriter

    path = Path(xlwings.__file__).with_name("udfs.py")
    tree = ast.parse(path.read_text())
    wanted = {*XLWINGS_UDF_CODE, *XLWINGS_DECORATORS}
    nodes = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted]
    assert {node.name for node in nodes} == wanted, "xlwings/udfs.py changed: look at its decorators again"
    namespace: dict[str, object] = {"inspect": inspect, "dt": dt, "VBAWriter": VBAWriter, "_F": typing.TypeVar("_F")}
    namespace.update({name: getattr(typing, name) for name in ("Annotated", "Any", "Callable")})
    namespace.update({name: getattr(typing, name) for name in ("get_args", "get_origin", "get_type_hints")})
    future = ast.ImportFrom(module="__future__", names=[ast.alias(name="annotations")], level=0)
    exec(
        compile(ast.fix_missing_locations(ast.Module(body=[future, *nodes], type_ignores=[])), str(path), "exec"),
        namespace,
    )
    module = ModuleType("xlwings")
    module.func, module.arg, module.ret = namespace["xlfunc"], namespace["xlarg"], namespace["xlret"]  # type: ignore[attr-defined]
    module.generate_vba_wrapper = namespace["generate_vba_wrapper"]  # type: ignore[attr-defined]
    return module


def test_the_xlwings_decorators_record_each_function(
    udfs: ModuleType, windows_xlwings: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What xlwings' ImportPythonUDFs reads from each function (`__xlfunc__`), and the VBA it writes from that."""
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "xlwings", windows_xlwings)
        decorated = _import(Path(udfs.__file__))
    price = decorated.PRICER_PRICE_OPTION.__xlfunc__
    assert price["name"] == "PRICER_PRICE_OPTION" and price["category"] == "Options Pricer"
    assert price["volatile"] is False and price["call_in_wizard"] is False and price["async_mode"] is None
    assert [a["name"] for a in price["args"]] == ["spot", "strike", "vol", "rate", "expiry", "call_"]  # VBA's Call
    assert price["args"][0]["doc"] == "Price of the underlying now (a number)"
    assert "optional" not in price["args"][4] and price["args"][5]["optional"] is None
    assert price["ret"]["doc"].startswith("Black-Scholes price of a European option.")
    grid = decorated.PRICER_GRID.__xlfunc__
    assert grid["args"][0]["options"] == {"ndim": 2, "err_to_str": True}
    assert "ndim" not in grid["args"][1]["options"] and grid["ret"]["options"] == {"expand": None}
    assert decorated.PRICER_TICKER.__xlfunc__["async_mode"] == "threading"
    run = decorated.SHIFTWORK_RUN.__xlfunc__["args"]
    assert [(a["name"], a["vararg"]) for a in run] == [("definition", False), ("parameters", True)]

    class Workbook:
        Name = "pricer.xlsm"

    vba = io.StringIO()
    windows_xlwings.generate_vba_wrapper("pricer_udfs", decorated, vba, Workbook())
    text = vba.getvalue()
    assert "Function PRICER_PRICE_OPTION(spot, strike, vol, rate, expiry, Optional call_)" in text
    assert "Function PRICER_GRID(spots, strike, Optional vol, Optional rate, Optional expiry)" in text
    assert "Function SHIFTWORK_RUN(definition, ParamArray parameters())" in text
    assert 'PRICER_PRICE_OPTION = XLPy.CallUDF("pricer_udfs", "PRICER_PRICE_OPTION"' in text
    assert text.count("\nFunction ") + text.startswith("Function ") == 9


def test_the_module_imports_only_the_standard_library_and_xlwings(udfs: ModuleType) -> None:
    tree = ast.parse(Path(udfs.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "xlwings" in imported
    assert {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names} == {"xlwings"}


def test_one_keep_alive_connection_for_many_cells(udfs: ModuleType) -> None:
    udfs.PRICER_PRICE_OPTION(100, 95, 0.2, 0.01, 1)
    connection = udfs._local.held[1]
    first = connection.sock
    for spot in range(50, 150):
        udfs.PRICER_PRICE_OPTION(spot, 95, 0.2, 0.01, 1)
    assert udfs._local.held[1] is connection and connection.sock is first


def test_https_with_the_development_ca(excel_registry: object, tmp_path: Path, pricer_module: ModuleType) -> None:
    from shiftwork.local.dev_certificate import dev_certificate
    from shiftwork.local.excel_server import ExcelServer

    certificate = dev_certificate(tmp_path)
    server = ExcelServer(
        excel_registry,  # type: ignore[arg-type]
        token="tls-token",
        tls=(certificate.certificate, certificate.key),
    ).start()
    try:
        trusted = _generate(server, tmp_path / "trusted", ca_file=str(certificate.ca))
        assert trusted.PRICER_PRICE_OPTION(100, 95, 0.2, 0.01, 1) == pricer_module.price_option(100, 95, 0.2, 0.01, 1)
        untrusted = _generate(server, tmp_path / "untrusted")
        text = untrusted.PRICER_PRICE_OPTION(100, 95, 0.2, 0.01, 1)
        assert text.startswith(f"#N/A {server.url}'s certificate is not trusted") and "SHIFTWORK_EXCEL_CA" in text
    finally:
        server.stop()


def _edge_addin() -> object:
    from shiftwork.excel import Addin

    addin = Addin("Edge cases", "Arguments xlwings and VBA name or pass differently", namespace="EDGE")

    @addin.expose(description="The sum of any number of values")
    def total(*values: float) -> float:
        return sum(values)

    @addin.expose(description="Names VBA and xlwings keep for themselves")
    def pick(first: float | None, second: float, call: bool = True, caller: str = "me") -> str:
        return f"{first}|{second}|{call}|{caller}"

    return addin


def test_repeating_empty_and_renamed_arguments(tmp_path: Path) -> None:
    from shiftwork.excel.protocol import Registry
    from shiftwork.local.excel_server import ExcelServer

    server = ExcelServer(Registry([_edge_addin()]), token="edge-token").start()  # type: ignore[list-item]
    try:
        edge = _generate(server, tmp_path)
        assert edge.EDGE_TOTAL(1, 2, 3.5) == 6.5 and edge.EDGE_TOTAL() == 0
        assert edge.EDGE_TOTAL(1, "two") == "#VALUE! values[2] is the text 'two': give a number"
        # an empty first cell before a required one: no Python default (it could not precede `second`), still empty
        assert edge.EDGE_PICK(None, 2) == "None|2.0|True|me"
        assert edge.EDGE_PICK(1, 2, False, "you") == "1.0|2.0|False|you"
        assert edge.EDGE_PICK.__code__.co_varnames[:4] == ("first", "second", "call_", "caller_")
    finally:
        server.stop()


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("xlwings")(xlwings_udfs)
    app.command("unused")(lambda: None)  # two commands: typer keeps the command's name on the command line
    return app


def test_the_committed_module_is_a_fresh_generation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "pricer_udfs.py"
    env = {"SHIFTWORK_STATE_DIR": None, "XDG_DATA_HOME": None}  # the default state directory, as a user has it
    if "pricer" in sys.modules:  # the command imports examples/pricer.py again: the server's module stays
        monkeypatch.setitem(sys.modules, "pricer", sys.modules["pricer"])
    result = CliRunner().invoke(_cli(), ["xlwings", "examples/pricer.py", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "ImportPythonUDFs" in result.output and "UDF Modules to pricer_udfs" in result.output
    assert out.read_text() == COMMITTED.read_text(), "regenerate addin/xlwings/pricer_udfs.py (README: Regenerate)"


def test_bad_input_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "pricer-udfs.py"
    result = CliRunner().invoke(_cli(), ["xlwings", str(ROOT / "examples" / "pricer.py"), "-o", str(out)])
    assert result.exit_code == 2 and "give a .py file like pricer_udfs.py" in result.output
    result = CliRunner().invoke(_cli(), ["xlwings", "-o", str(tmp_path / "a.py"), "--url", "localhost:8443"])
    assert result.exit_code == 2 and "--url 'localhost:8443': give the server's address" in result.output
    assert list(tmp_path.iterdir()) == []


def test_without_a_module_the_shiftwork_functions(tmp_path: Path) -> None:
    out = tmp_path / "shiftwork_udfs.py"
    result = CliRunner().invoke(_cli(), ["xlwings", "-o", str(out), "--url", "http://127.0.0.1:8443"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "def SHIFTWORK_RUN(definition, *parameters):" in text and "PRICER" not in text
    assert 'URL = "http://127.0.0.1:8443"' in text and "CA_FILE = None" in text  # plain HTTP: no certificate


def test_vba_safe_names() -> None:
    taken: set[str] = {"pricer_price_option"}
    assert [vba_safe(n, taken) for n in ["call", "caller", "_spot", "Date", "date_", "PRICER_PRICE_OPTION"]] == [
        "call_",
        "caller_",
        "spot",
        "Date_",
        "date__",
        "PRICER_PRICE_OPTION_",
    ]
