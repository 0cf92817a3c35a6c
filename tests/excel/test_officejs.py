"""The Office.js add-in: built from the Python signatures, its functions.json made by custom-functions-metadata, and
its generated functions run under node (`node --test`) against the real local server, compared with Python."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from shiftwork.excel.values import to_serial

OFFICEJS = Path(__file__).resolve().parents[2] / "addin" / "officejs"
NODE_SECONDS = 60
NODE_FILES = sorted(str(p.relative_to(OFFICEJS)) for p in (OFFICEJS / "test").glob("*.test.js"))
OFFICE = "{http://schemas.microsoft.com/office/appforoffice/1.1}"
OVERRIDES = "{http://schemas.microsoft.com/office/taskpaneappversionoverrides}"
BT = "{http://schemas.microsoft.com/office/officeappbasictypes/1.0}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: Office.js untested")


@pytest.fixture(scope="module")
def built(excel_server) -> Path:
    """The add-in's files as the server serves them (the fixture builds them with build_officejs)."""
    error = getattr(excel_server, "static_error", None)
    if error is not None:
        raise error
    assert excel_server.static_dir is not None
    return Path(excel_server.static_dir)


def _message(registry, function: str, args: list[Any]) -> dict[str, str]:
    from shiftwork.excel.protocol import Call, call_one

    result = call_one(registry, Call(function=function, args=args))
    assert result.error is not None
    return result.error.model_dump()


@pytest.fixture(scope="module")
def expected(pricer_module, excel_registry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the cells must show, from calling examples/pricer.py (and the SHIFTWORK functions) in Python."""
    from shiftwork.excel.protocol import Call, call_one

    price = pricer_module.price_option
    start, expiry = date(2026, 1, 1), date(2027, 1, 1)
    fires = call_one(excel_registry, Call(function="SHIFTWORK.NEXT_FIRES", args=["0 9 * * *", "UTC", 3]))
    values = {
        "price_option": {"call": price(100, 95, 0.2, 0.01, 1), "put": price(100, 95, 0.2, 0.01, 1, False)},
        "batch": [price(50 + i, 95, 0.2, 0.01, 1) for i in range(200)],
        "grid": pricer_module.grid([[90, 100], [110, 120]], 95),
        "year_fraction": {
            "args": [to_serial(expiry), to_serial(start)],
            "value": pricer_module.year_fraction(expiry, start),
        },
        "ticker": list(itertools.islice(pricer_module.ticker(100, 0.2, 0.05), 3)),
        "next_fires": fires.value,
        "errors": {
            "text_spot": _message(excel_registry, "PRICER.PRICE_OPTION", ["x", 95, 0.2, 0.01, 1])["message"],
            "negative_spot": _message(excel_registry, "PRICER.PRICE_OPTION", [-1, 95, 0.2, 0.01, 1])["message"],
            "run_unknown": _message(excel_registry, "SHIFTWORK.RUN", ["no-such-definition", "day", "2026-12-01"]),
        },
    }
    path = tmp_path_factory.mktemp("officejs") / "expected.json"
    path.write_text(json.dumps(values))
    return path


@pytest.fixture(scope="module")
def cognito(stack) -> dict[str, Any]:
    """A user pool on the session's moto server with a user who has TOTP MFA, for auth.js's sign-in."""
    import boto3

    client = boto3.client(
        "cognito-idp",
        endpoint_url=stack.info.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool = client.create_user_pool(PoolName="excel-officejs", MfaConfiguration="OPTIONAL")["UserPool"]["Id"]
    app = client.create_user_pool_client(
        UserPoolId=pool,
        ClientName="excel",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    users = {"plain": "analyst", "mfa": "trader"}
    password = "Correct-horse-9"
    for username in users.values():
        client.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
        client.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    signed_in = client.initiate_auth(
        ClientId=app, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": users["mfa"], "PASSWORD": password}
    )["AuthenticationResult"]
    secret = client.associate_software_token(AccessToken=signed_in["AccessToken"])["SecretCode"]
    client.verify_software_token(AccessToken=signed_in["AccessToken"], UserCode=_totp(secret))
    client.set_user_mfa_preference(
        AccessToken=signed_in["AccessToken"], SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    # as the stack's pool: MFA required, users invited by an admin with a temporary password
    strict = client.create_user_pool(PoolName="excel-first-sign-in", MfaConfiguration="OFF")["UserPool"]["Id"]
    client.set_user_pool_mfa_config(
        UserPoolId=strict, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    strict_app = client.create_user_pool_client(
        UserPoolId=strict,
        ClientName="excel",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    client.admin_create_user(
        UserPoolId=strict, Username="newcomer", TemporaryPassword="Temporary-pass-1", MessageAction="SUPPRESS"
    )
    endpoint = stack.info.endpoint_url
    return {
        "config": {
            "auth": "cognito",
            "region": "us-east-1",
            "user_pool_id": pool,
            "client_id": app,
            "cognito_endpoint": endpoint,
        },
        "users": users,
        "password": password,
        "totp_secret": secret,
        "first_sign_in": {
            "config": {
                "auth": "cognito",
                "region": "us-east-1",
                "user_pool_id": strict,
                "client_id": strict_app,
                "cognito_endpoint": endpoint,
            },
            "username": "newcomer",
            "temporary": "Temporary-pass-1",
        },
    }


def _totp(secret: str) -> str:
    """The code an authenticator app shows now (RFC 6238), as moto checks it with TOTP enabled."""
    import time

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(time.time()).decode()


@pytest.fixture(scope="module")
def node_results(built, expected, excel_server, cognito, tmp_path_factory, monkeypatch_module) -> dict[str, Any]:
    """`node --test` over addin/officejs/test, once for the module: its TAP summary and each test's outcome."""
    monkeypatch_module.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")  # moto checks the codes then
    settings = tmp_path_factory.mktemp("cognito") / "cognito.json"
    settings.write_text(json.dumps(cognito))
    env = {
        **os.environ,
        "SHIFTWORK_ADDIN_DIR": str(built),
        "SHIFTWORK_URL": excel_server.url,
        "SHIFTWORK_TOKEN": excel_server.token,
        "SHIFTWORK_EXPECTED": str(expected),
        "SHIFTWORK_COGNITO": str(settings),
    }
    done = subprocess.run(
        ["node", "--test", "--test-reporter=tap", "--test-concurrency=1", *NODE_FILES],
        cwd=OFFICEJS,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
    )
    outcomes = {
        match.group(2): match.group(1) == "ok"
        for match in re.finditer(r"^\s*(ok|not ok) \d+ - (.+?)(?: # .*)?$", done.stdout, re.MULTILINE)
    }
    return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "outcomes": outcomes}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


NODE_TESTS = [
    "PRICER.PRICE_OPTION gives the Python function's price",
    "200 cells recalculated in one tick make one /excel/call request",
    "a range argument and a spilled 2-D result (PRICER.GRID)",
    "a date is an Excel serial number, forwarded as is (PRICER.YEAR_FRACTION)",
    "an error cell is a CustomFunctions.Error with the code and the server's message",
    "one bad cell fails alone: the rest of its batch gets values",
    "a streaming cell (PRICER.TICKER) gets values until cancelled, and cancelling aborts the request",
    "a stream's window ends and the cell reconnects with the value it shows, which is not sent again",
    "without a readable body (a buffering proxy) a stream's events are read from text(), window after window",
    "a wrong token: the cell says to sign in in the task pane",
    "a server that is not there: the cell says it cannot be reached",
    "SHIFTWORK.NEXT_FIRES spills a column of date serials; RUN forwards its repeating arguments",
    "the local server's config asks for its token, which the functions then send",
    "Cognito: a user name and password give an IdToken the functions send to api_url",
    "Cognito: a wrong password is refused with Cognito's message",
    "Cognito: a user with MFA answers the SOFTWARE_TOKEN_MFA challenge with the 6-digit code",
    "Cognito: an IdToken about to expire is refreshed (REFRESH_TOKEN_AUTH) before a call",
    "a streaming cell refused for its token shows the sign-in message and stops",
    "the task pane's test connection lists the namespaces and functions the server answers for",
    "events split at blank lines; a trailing part waits for the next chunk",
    "an end event, CRLF line ends, and a comment carry no data",
    "more than 10,000 cells in one tick go in requests of at most 10,000, each cell answered from its slot",
    "cells whose arguments add up past 5 MB go in more than one request",
]


def test_node_tests_pass_against_the_local_server(node_results) -> None:
    failed = [name for name, passed in node_results["outcomes"].items() if not passed]
    assert node_results["code"] == 0 and not failed, node_results["stdout"][-6000:] + node_results["stderr"][-2000:]
    missing = [name for name in NODE_TESTS if name not in node_results["outcomes"]]
    assert not missing, f"node did not run {missing}:\n{node_results['stdout'][-3000:]}"


# -- functions.json (custom-functions-metadata's) against the Python signatures ---------------------------------
def _expected_metadata(info) -> dict[str, Any]:
    """What functions.json must say for one Python function, in custom-functions-metadata's terms."""
    from shiftwork.excel.officejs import js_name

    parameters, names = [], set()
    for p in info.parameters:
        name = js_name(p.name, names)
        names.add(name)
        parameters.append(
            {
                "name": name,
                "type": p.office_type,
                "dimensionality": "scalar" if p.dimensionality == "scalar" else "matrix",
                "optional": p.optional or p.repeating,
                "repeating": p.repeating,
            }
        )
    return {
        "parameters": parameters,
        "result": {
            "type": info.result.office_type,
            "dimensionality": "scalar" if info.result.dimensionality == "scalar" else "matrix",
        },
        "stream": info.streaming,
        "volatile": info.volatile,
    }


def _metadata_of(function: dict[str, Any]) -> dict[str, Any]:
    options = function.get("options", {})
    return {
        "parameters": [
            {
                "name": p["name"],
                "type": p.get("type", "any"),
                "dimensionality": p.get("dimensionality", "scalar"),
                "optional": p.get("optional", False),
                "repeating": p.get("repeating", False),
            }
            for p in function["parameters"]
        ],
        "result": {
            "type": function["result"].get("type", "any"),
            "dimensionality": function["result"].get("dimensionality", "scalar"),
        },
        "stream": options.get("stream", False),
        "volatile": options.get("volatile", False),
    }


def _assert_metadata_matches(folder: Path, addin) -> None:
    metadata = json.loads((folder / "functions.json").read_text())
    found = {f["id"]: f for f in metadata["functions"]}
    assert sorted(found) == sorted(f.name for f in addin.functions)
    for info in addin.functions:
        function = found[info.name]
        assert function["name"] == info.name
        shown = info.description.rstrip(".").replace("@", "\uff20").replace("*/", "* /")  # JSDoc-safe
        assert function["description"].startswith(shown), function["description"]
        assert _metadata_of(function) == _expected_metadata(info), info.qualified_name


def test_functions_json_matches_the_python_signatures(built, excel_registry) -> None:
    described = excel_registry.describe()
    assert sorted(p.name for p in (built / "addins").iterdir()) == sorted(a.namespace.lower() for a in described.addins)
    for addin in described.addins:
        _assert_metadata_matches(built / "addins" / addin.namespace.lower(), addin)
    pricer = json.loads((built / "addins" / "pricer" / "functions.json").read_text())
    ticker = next(f for f in pricer["functions"] if f["id"] == "TICKER")
    assert ticker["options"]["stream"] is True and ticker["result"]["type"] == "number"


def test_unusual_signatures_survive_the_metadata_tool(tmp_path: Path) -> None:
    """Volatile, a JS reserved word, repeating ranges, datetimes, and text that would break a JSDoc comment."""
    from shiftwork.excel import Addin
    from shiftwork.excel.officejs import build_officejs
    from shiftwork.excel.protocol import Registry

    addin = Addin("Odd one", "Edge cases */ @customfunction", namespace="ODD")

    @addin.expose(volatile=True, description="Now, as a serial */ with @tags in it")
    def moment(default: float = 0.0, *ranges: list[list[float]]) -> datetime:
        return datetime(2026, 12, 1)

    @addin.expose(description="Words")
    def words(text: str, flag: bool | None = None) -> list[list[str]]:
        return [[text]]

    @addin.expose(name="JSON", description="Named like a browser global")
    def as_json(value: Any) -> str:
        return str(value)

    described = Registry([addin]).describe()
    build_officejs(described, "https://example.test/addin", tmp_path)
    _assert_metadata_matches(tmp_path / "addins" / "odd", described.addins[0])
    moment_json = json.loads((tmp_path / "addins" / "odd" / "functions.json").read_text())["functions"][0]
    assert [p["name"] for p in moment_json["parameters"]] == ["default_", "ranges"]
    assert moment_json["description"] == "Now, as a serial * / with \uff20tags in it"  # not a @tags tag
    assert moment_json["options"] == {"volatile": True}
    script = (tmp_path / "addins" / "odd" / "functions.js").read_text()
    assert "function ODD$JSON(value)" in script and "function JSON(" not in script  # the page's JSON stays


# -- the manifest ---------------------------------------------------------------------------------------------
def _manifest(built: Path, namespace: str) -> ET.Element:
    return ET.parse(built / "addins" / namespace.lower() / "manifest.xml").getroot()


def test_manifest_has_the_namespace_shared_runtime_and_urls(built, excel_server) -> None:
    import urllib.request

    from shiftwork.excel.officejs import addin_id

    for namespace in ("PRICER", "SHIFTWORK"):
        root = _manifest(built, namespace)
        assert root.get(XSI_TYPE) == "TaskPaneApp"
        assert root.findtext(f"{OFFICE}Id") == addin_id(excel_server.url, namespace)
        sets = {s.get("Name"): s.get("MinVersion") for s in root.iter(f"{OFFICE}Set")}
        assert sets == {"CustomFunctionsRuntime": "1.1", "SharedRuntime": "1.1"}
        runtime = root.find(f".//{OVERRIDES}Runtimes/{OVERRIDES}Runtime")
        assert runtime is not None and runtime.get("lifetime") == "long"
        strings = {s.get("id"): s.get("DefaultValue") for s in root.iter(f"{BT}String")}
        assert strings["Functions.Namespace"] == namespace
        urls = {u.get("id"): u.get("DefaultValue") for u in root.iter(f"{BT}Url")}
        page = urls[runtime.get("resid")]
        assert page == f"{excel_server.url}/addins/{namespace.lower()}/taskpane.html"
        points = root.find(f".//{OVERRIDES}ExtensionPoint[@{XSI_TYPE}='CustomFunctions']")
        assert points is not None
        page_resid = points.find(f"{OVERRIDES}Page/{OVERRIDES}SourceLocation").get("resid")  # type: ignore[union-attr]
        assert urls[page_resid] == page  # the functions' page is the runtime's: one JS context
        action = root.find(f".//{OVERRIDES}Action[@{XSI_TYPE}='ShowTaskpane']/{OVERRIDES}SourceLocation")
        assert action is not None and urls[action.get("resid")] == page
        images = [i.get("DefaultValue") for i in root.iter(f"{BT}Image") if i.get("DefaultValue")]
        for url in [*urls.values(), *images, root.find(f"{OFFICE}IconUrl").get("DefaultValue")]:  # type: ignore[union-attr]
            assert url.startswith(excel_server.url + "/")
            with urllib.request.urlopen(url, timeout=5) as response:  # the server serves every file it names
                assert response.status == 200 and response.read()


def test_manifest_ids_differ_by_where_the_add_in_is_served() -> None:
    from shiftwork.excel.officejs import addin_id

    local = addin_id("https://localhost:8443", "PRICER")
    assert local == addin_id("https://localhost:8443/", "PRICER")
    assert len({local, addin_id("https://d111.cloudfront.net", "PRICER"), addin_id("https://localhost:8443", "X")}) == 3


# -- the command ----------------------------------------------------------------------------------------------
def test_build_command_writes_a_manifest_per_namespace(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from shiftwork.cli.excel_build import build

    app = typer.Typer()
    app.command()(build)
    pricer = str(OFFICEJS.parents[1] / "examples" / "pricer.py")
    out = tmp_path / "site"
    done = CliRunner().invoke(app, [pricer, "--url", "https://addin.example.test", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert sorted(p.parent.name for p in out.glob("addins/*/manifest.xml")) == ["pricer", "shiftwork"]
    assert "https://addin.example.test/addins/pricer/functions.json" in (out / "addins/pricer/manifest.xml").read_text()
    refused = CliRunner().invoke(app, [pricer, "--url", "ftp://addin.example.test", "--out", str(tmp_path / "no")])
    assert refused.exit_code == 2
    assert "url 'ftp://addin.example.test': give where the add-in's files are served" in refused.output
    assert not (tmp_path / "no").exists()


def test_an_api_elsewhere_is_the_functions_default_and_an_app_domain(tmp_path: Path, excel_registry) -> None:
    from shiftwork.excel.officejs import addin_id, build_officejs

    api = "https://abc123.execute-api.eu-west-1.amazonaws.com"
    build_officejs(excel_registry.describe(), "https://d111.cloudfront.net", tmp_path, api_url=api, id_seed="stack-a")
    script = (tmp_path / "addins" / "pricer" / "functions.js").read_text()
    assert f'"endpoint": "{api}"' in script
    root = _manifest(tmp_path, "PRICER")
    assert [d.text for d in root.iter(f"{OFFICE}AppDomain")] == [api]
    assert root.findtext(f"{OFFICE}Id") == addin_id("stack-a", "PRICER")  # one per stack, whatever its URL
    page = "https://d111.cloudfront.net/addins/pricer/taskpane.html"
    assert page in (tmp_path / "addins" / "pricer" / "manifest.xml").read_text()
