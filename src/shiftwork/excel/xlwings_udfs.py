"""`shiftwork excel xlwings`: an xlwings UDF module whose functions forward each cell to the add-in's server.

The module it writes imports only the standard library and `xlwings` (its BSD part: never xlwings.pro or
xlwings.server), so it runs wherever Excel's Python has xlwings, without Shiftwork installed. Names: xlwings makes a
VBA function of each Python function's name, and neither Python nor VBA names take a dot, so =PRICER.PRICE_OPTION is
=PRICER_PRICE_OPTION (the namespace kept: no clash between add-ins, nor with Excel's own RUN or RESULT).
"""

from __future__ import annotations

import json
import keyword
import textwrap
from pathlib import Path

from shiftwork.errors import InvalidSpec
from shiftwork.excel.protocol import FunctionInfo, FunctionParameter, Functions

URL_VARIABLE = "SHIFTWORK_EXCEL_URL"
TOKEN_VARIABLE = "SHIFTWORK_EXCEL_TOKEN"
CA_VARIABLE = "SHIFTWORK_EXCEL_CA"
MAX_DOC = 255  # what Excel's function wizard keeps of a description (Application.MacroOptions)
# VBA's keywords and statements: xlwings writes each argument's name into a VBA function's parameter list
VBA_RESERVED = frozenset(
    """and as attribute boolean byref byte byval call case cbool cbyte ccur cdate cdbl cdec cint circle clng clnglng
    clngptr close const csng cstr currency cvar cverr date debug decimal declare defbool defbyte defcur defdate defdbl
    defdec defint deflng deflnglng deflngptr defobj defsng defstr defvar dim do double each else elseif empty end
    endif enum eqv erase error event exit false for friend function get global gosub goto if imp implements in input
    integer is kill lbound len let lib like line lock long longlong longptr loop lset me mid mod name new next not
    nothing null object on open option optional or paramarray preserve print private property ptrsafe public put
    raiseevent randomize redim rem reset resume return rset scale seek select set single spc static step stop string
    sub tab then to true type typeof ubound unlock until variant wend while width with withevents write xor""".split()  # noqa: SIM905  a block of words reads better than 140 quoted ones
)
XLWINGS_RESERVED = frozenset({"caller", "argsarray", "k"})  # xlwings' caller argument; its VBA wrapper's locals
WORDS = {  # (one, many)
    "number": ("a number", "numbers"),
    "integer": ("a whole number", "whole numbers"),
    "string": ("text", "text"),
    "boolean": ("TRUE or FALSE", "TRUE or FALSE values"),
    "date": ("a date", "dates"),
    "datetime": ("a date and time", "dates and times"),
    "any": ("a value", "values"),
}


def udf_name(function: FunctionInfo) -> str:
    """The worksheet name of a function under xlwings: PRICER.PRICE_OPTION is PRICER_PRICE_OPTION."""
    return function.qualified_name.replace(".", "_")


def vba_safe(name: str, taken: set[str]) -> str:
    """An argument's name as both Python and VBA take it: `call` (a VBA keyword) is `call_`; VBA ignores case."""
    safe = name.lstrip("_") or "arg"
    if not safe[0].isalpha():
        safe = f"arg_{safe}"
    while safe.lower() in VBA_RESERVED | XLWINGS_RESERVED | taken or keyword.iskeyword(safe):
        safe += "_"
    taken.add(safe.lower())
    return safe


def _argument_doc(parameter: FunctionParameter) -> str:
    one, many = WORDS.get(parameter.type, WORDS["any"])
    what = {"matrix": f"a range of {many}", "vector": f"a row or column of {many}"}.get(parameter.dimensionality, one)
    what += ", optional" if parameter.optional else ""
    text = f"{parameter.description} ({what})" if parameter.description else what[0].upper() + what[1:]
    return text[:MAX_DOC]


def _function_doc(function: FunctionInfo) -> str:
    parts = [function.description.rstrip(". ")] if function.description else []
    if function.help:
        parts.append(function.help.rstrip(". "))
    if function.streaming:
        parts.append("Shows the first value: recalculate (Ctrl+Alt+F9) to refresh")
    text = ". ".join(parts) + "." if parts else function.signature
    return text[:MAX_DOC]


def _wrapper(function: FunctionInfo, category: str) -> str:
    """One @xw.func wrapper: its decorators say how xlwings hands over each argument, its body forwards the cell."""
    name = udf_name(function)
    taken = {name.lower()}
    names = [vba_safe(p.name, taken) for p in function.parameters]
    has_repeating = any(p.repeating for p in function.parameters)
    signature, forwarded = [], []
    for index, (parameter, safe) in enumerate(zip(function.parameters, names, strict=True)):
        if parameter.repeating:
            signature.append(f"*{safe}")
            forwarded.append(f"*{safe}")
            continue
        later = function.parameters[index + 1 :]
        # xlwings refuses optional and repeating arguments together; a default needs every later one optional too
        optional = parameter.optional and not has_repeating and all(p.optional and not p.repeating for p in later)
        signature.append(f"{safe}=None" if optional else safe)
        forwarded.append(safe)
    options = [f"volatile={function.volatile}", f"category={json.dumps(category)}", "call_in_wizard=False"]
    if function.streaming:
        options.append('async_mode="threading"')  # the first value may take a while: Excel stays responsive
    lines = [f"@xw.func({', '.join(options)})"]
    for parameter, safe in zip(function.parameters, names, strict=True):
        arg = [json.dumps(("*" if parameter.repeating else "") + safe)]
        if parameter.dimensionality != "scalar":
            arg.append("ndim=2")  # a range is always rows, even one cell or one column: the server checks the shape
        arg += ["err_to_str=True", f"doc={json.dumps(_argument_doc(parameter))}"]
        lines.append(f"@xw.arg({', '.join(arg)})")
    if function.result.dimensionality != "scalar":
        lines.append("@xw.ret(expand=None)  # rows spill by themselves in Excel with dynamic arrays: no legacy expand")
    lines.append(f"def {name}({', '.join(signature)}):")
    lines.append(f"    {json.dumps(_function_doc(function), ensure_ascii=False)}")
    forward = "_stream_first" if function.streaming else "_call"
    lines.append(f"    return {forward}({json.dumps(function.qualified_name)}, [{', '.join(forwarded)}])")
    return "\n".join(lines)


def render_udf_module(
    functions: Functions,
    url: str,
    *,
    source: str,
    token_file: str | None = None,
    ca_file: str | None = None,
) -> str:
    """The module's text: settings (url, the token's and the CA's files, `~` for the home folder), the transport,
    and one wrapper per function of every add-in."""
    seen: dict[str, str] = {}
    wrappers = []
    for addin in functions.addins:
        for function in addin.functions:
            name = udf_name(function)
            if name in seen:
                raise InvalidSpec(
                    "function name", function.qualified_name, f"{seen[name]} is {name} under xlwings too: rename one"
                )
            seen[name] = function.qualified_name
            wrappers.append(_wrapper(function, addin.name))
    header = HEADER.format(
        source=source,
        names=textwrap.fill("Functions: " + ", ".join(seen), width=116),
        url=_literal(url),
        token_file=_literal(token_file),
        ca_file=_literal(ca_file),
    )
    return header + RUNTIME + "\n\n" + "\n\n\n".join(wrappers) + "\n"


def _literal(value: str | None) -> str:
    return "None" if value is None else json.dumps(value)


def home_relative(path: Path) -> str:
    """path with `~` for the home folder when it is under it, so the module works for the same user elsewhere."""
    expanded = path.expanduser()
    try:
        return "~/" + expanded.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(expanded)


def checked_module_name(out: Path, module_name: str | None = None) -> str:
    """The name xlwings imports the module by: out's stem unless given, a Python identifier."""
    name = module_name or out.stem
    if not name.isidentifier() or keyword.iskeyword(name) or out.suffix != ".py":
        fix = "xlwings imports the module by its name: give a .py file like pricer_udfs.py"
        raise InvalidSpec("output", str(out), fix)
    return name


def write_udf_module(
    functions: Functions,
    url: str,
    out: Path,
    *,
    module_name: str | None = None,
    source: str = "",
    token_file: str | None = None,
    ca_file: str | None = None,
) -> Path:
    """Write the module to out; module_name (default: out's stem) is what xlwings' UDF Modules setting names."""
    name = checked_module_name(out, module_name)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render_udf_module(functions, url, source=source or name, token_file=token_file, ca_file=ca_file)
    out.write_text(text, encoding="utf-8")
    return out


HEADER = '''# ruff: noqa: E501  (one-line descriptions: Excel's function wizard shows them as they are)
# fmt: off
"""xlwings worksheet functions for {source}, generated by `shiftwork excel xlwings`: do not edit, regenerate.

{names}

Each cell is sent to the Shiftwork add-in server (`shiftwork excel serve`) at $SHIFTWORK_EXCEL_URL, else URL below,
with the token in $SHIFTWORK_EXCEL_TOKEN, else in TOKEN_FILE. A failed cell shows its error as text, "#VALUE! what
to fix" (an xlwings function cannot return an Excel error with a message). A streaming function shows its first
value: recalculate to refresh. Import it into a workbook without the xlwings add-in: addin/xlwings/README.md.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import ssl
import threading
import urllib.parse

import xlwings as xw

URL = {url}
TOKEN_FILE = {token_file}  # `shiftwork excel serve` keeps its token there
CA_FILE = {ca_file}  # the development CA `shiftwork excel serve` made ($SHIFTWORK_EXCEL_CA overrides it)
'''

RUNTIME = '''TIMEOUT_SECONDS = 120.0
STREAM_WINDOW_SECONDS = 10.0  # how long a streaming cell waits for its first value
_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
_local = threading.local()  # one keep-alive connection per thread: a sheet of cells is not a handshake per cell


def _url():
    return urllib.parse.urlsplit(os.environ.get("SHIFTWORK_EXCEL_URL") or URL)


def _token():
    token = os.environ.get("SHIFTWORK_EXCEL_TOKEN", "").strip()
    if token or not TOKEN_FILE:
        return token
    try:
        with open(os.path.expanduser(TOKEN_FILE), encoding="utf-8") as file:
            return file.read().strip()
    except OSError:
        return ""


def _tls():
    context = ssl.create_default_context()
    ca = os.environ.get("SHIFTWORK_EXCEL_CA") or (os.path.expanduser(CA_FILE) if CA_FILE else "")
    if ca and (os.path.exists(ca) or os.environ.get("SHIFTWORK_EXCEL_CA")):
        context.load_verify_locations(ca)  # besides the system's: a deployed server's real certificate works too
    return context


def _connection(url, fresh=False):
    key = (url.scheme, url.netloc, os.environ.get("SHIFTWORK_EXCEL_CA"))
    held = getattr(_local, "held", None)
    if held is not None and held[0] == key and not fresh:
        return held[1], True
    if held is not None:
        held[1].close()
    connection = _open(url, TIMEOUT_SECONDS)
    _local.held = (key, connection)
    return connection, False


def _open(url, timeout):
    if url.scheme == "https":
        return http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=timeout, context=_tls())
    return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)


def _headers():
    return {"Content-Type": "application/json", "Authorization": "Bearer " + _token()}


def _post(path, body):
    """(status, body) of a POST on the thread's connection, opened again once if the server had closed it."""
    url = _url()
    data = json.dumps(body, separators=(",", ":")).encode()
    for attempt in (1, 2):
        connection, reused = _connection(url, fresh=attempt > 1)
        try:
            connection.request("POST", url.path.rstrip("/") + path, body=data, headers=_headers())
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()
            if attempt > 1 or not reused:
                raise
    raise AssertionError("unreachable")


def _value(value):
    """What xlwings hands over as the protocol takes it: a date as Excel's serial number, empty as null."""
    if isinstance(value, (list, tuple)):
        return [_value(item) for item in value]
    if isinstance(value, _dt.date):
        moment = value if isinstance(value, _dt.datetime) else _dt.datetime(value.year, value.month, value.day)
        delta = moment.replace(tzinfo=None) - _EXCEL_EPOCH  # a cell has no time zone: its wall time
        serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86400000000
        return serial - 1 if serial < 61 else serial  # Excel counts a 1900-02-29 that never was
    return value


def _error(code, message):
    return f"{code} {message}"


def _refused(status, body):
    """The cell's text for a request the server refused."""
    if status == 401:
        where = f" or keep it in {TOKEN_FILE}" if TOKEN_FILE else ""
        return _error(
            "#VALUE!",
            f"the Shiftwork server refused the token: set SHIFTWORK_EXCEL_TOKEN to the token `shiftwork excel serve` "
            f"printed{where}, then restart Excel's Python",
        )
    try:
        message = json.loads(body).get("message") or ""
    except (ValueError, AttributeError):
        message = body[:200].decode(errors="replace")
    return _error("#VALUE!", f"the Shiftwork server answered {status}: {message}")


def _unreachable(error):
    where = urllib.parse.urlunsplit(_url())
    if isinstance(error, ssl.SSLCertVerificationError):
        return _error(
            "#N/A",
            f"{where}'s certificate is not trusted ({error.verify_message}): set SHIFTWORK_EXCEL_CA to the ca.pem "
            "`shiftwork excel serve` made, or serve with --http and set SHIFTWORK_EXCEL_URL",
        )
    return _error(
        "#N/A",
        f"cannot reach the Shiftwork server at {where} ({error}): run `shiftwork excel serve MODULE` "
        "or set SHIFTWORK_EXCEL_URL",
    )


def _call(function, args):
    """One cell's value from POST /excel/call, or its error as text: never an exception (xlwings shows those as a
    traceback in the cell)."""
    try:
        call = {"function": function, "args": _value(list(args))}
        status, body = _post("/excel/call", {"calls": [call]})
        if status != 200:
            return _refused(status, body)
        result = json.loads(body)["results"][0]
        error = result.get("error")
        return _error(error["code"], error["message"]) if error else result.get("value")
    except (OSError, http.client.HTTPException) as error:
        return _unreachable(error)
    except Exception as error:  # noqa: BLE001  whatever went wrong, the cell says it in words
        return _error("#VALUE!", f"{function}: {type(error).__name__}: {error}")


def _stream_first(function, args):
    """A streaming cell's first value from POST /excel/stream, then the stream closed (an xlwings function returns
    once: recalculating calls it again)."""
    url = _url()
    connection = _open(url, STREAM_WINDOW_SECONDS + 30)
    try:
        call = {"function": function, "args": _value(list(args)), "window_seconds": STREAM_WINDOW_SECONDS}
        data = json.dumps(call, separators=(",", ":")).encode()
        connection.request("POST", url.path.rstrip("/") + "/excel/stream", body=data, headers=_headers())
        response = connection.getresponse()
        if response.status != 200:
            return _refused(response.status, response.read())
        return _first_event(response)
    except (OSError, http.client.HTTPException) as error:
        return _unreachable(error)
    except Exception as error:  # noqa: BLE001
        return _error("#VALUE!", f"{function}: {type(error).__name__}: {error}")
    finally:
        connection.close()  # the server stops the function when its client goes


def _first_event(response):
    event = None
    for raw in response:
        line = raw.decode("utf-8").rstrip("\\r\\n")
        if line.startswith("event:"):
            event = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data = json.loads(line[len("data:") :])
            if event == "end":
                if data.get("reason") == "done":
                    return ""
                return _error("#N/A", "no value yet: recalculate (Ctrl+Alt+F9) to look again")
            if "error" in data:
                return _error(data["error"]["code"], data["error"]["message"])
            return data.get("value")
        elif not line:
            event = None
    return _error("#N/A", "the stream ended without a value: recalculate (Ctrl+Alt+F9) to look again")
'''
