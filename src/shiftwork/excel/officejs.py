"""The Office.js add-in for a server's functions: per namespace a manifest, a functions.js generated from the Python
signatures (JSDoc that Microsoft's custom-functions-metadata turns into functions.json) and the shared page.

    build_officejs(registry.describe(), "https://localhost:8443", out)

    out/runtime.js, auth.js, taskpane.js, taskpane.css, icons/   the hand-written client (addin/officejs/src)
    out/addins/pricer/manifest.xml                                  sideload this one in Excel
    out/addins/pricer/functions.js, functions.json, taskpane.html   the functions and the page that loads them

The hand-written files live in the repository's addin/officejs (found beside the installed package, an editable
install, or at $SHIFTWORK_OFFICEJS_DIR); functions.json is made by node, never by Python, so it is what Excel reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Collection
from pathlib import Path
from string import Template
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from shiftwork.errors import InvalidSpec, ShiftworkError
from shiftwork.excel.errors import OFFICE_CODES
from shiftwork.excel.protocol import AddinInfo, FunctionInfo, FunctionParameter, Functions

ENV_SOURCE = "SHIFTWORK_OFFICEJS_DIR"
SHARED_FILES = ["runtime.js", "auth.js", "taskpane.js", "taskpane.css"]
PAGE = "taskpane.html"  # the shared runtime's one page: functions, ribbon button and task pane
ICON_SIZES = (16, 32, 64, 80)
MANIFEST_VERSION = "1.0.0.0"
NPM_CI = ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]
METADATA_SECONDS = 120
# JavaScript's reserved words a Python parameter may be named (Python's own keywords cannot be)
JS_RESERVED = frozenset(
    [
        "case",
        "catch",
        "const",
        "debugger",
        "default",
        "delete",
        "do",
        "enum",
        "export",
        "extends",
        "function",
        "instanceof",
        "let",
        "new",
        "super",
        "switch",
        "this",
        "throw",
        "typeof",
        "var",
        "void",
        "arguments",
        "eval",
        "await",
        "implements",
        "interface",
        "package",
        "private",
        "protected",
        "public",
        "static",
        "yield",
    ]
)
MAX_SHORT = 125  # the manifest's ShortStrings and DisplayName
MAX_LONG = 250  # its LongStrings


class OfficeJsBuildError(ShiftworkError, RuntimeError):
    """The Office.js add-in cannot be built here: says what is missing and the command that fixes it."""


# -- where the hand-written files are -------------------------------------------------------------------------
def source_dir() -> Path:
    """addin/officejs: $SHIFTWORK_OFFICEJS_DIR, else the repository around this package (an editable install)."""
    override = os.environ.get(ENV_SOURCE)
    candidates = [Path(override)] if override else []
    candidates.append(Path(__file__).resolve().parents[3] / "addin" / "officejs")  # src/shiftwork/excel/ -> repo
    for candidate in candidates:
        if (candidate / "package.json").is_file() and (candidate / "src" / "runtime.js").is_file():
            return candidate
    raise OfficeJsBuildError(
        f"the Office.js add-in's sources (addin/officejs) are not at {', '.join(map(str, candidates))}: install "
        f"Shiftwork from its repository (pip install -e .) or set {ENV_SOURCE} to the addin/officejs folder"
    )


def ensure_node_modules(source: Path) -> None:
    """npm ci in source when custom-functions-metadata is missing (once; npm's cache makes it quick after)."""
    if (source / "node_modules" / "custom-functions-metadata" / "package.json").is_file():
        return
    command = " ".join(NPM_CI)
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise OfficeJsBuildError(
            f"node and npm are needed to build the Office.js add-in: install Node 20+, then "
            f"run `cd {source} && {command}`"
        )
    print(f"installing the Office.js build tools once: cd {source} && {command}", file=sys.stderr)
    done = subprocess.run(NPM_CI, cwd=source, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OfficeJsBuildError(
            f"`{command}` failed in {source} ({done.stderr.strip()[-500:] or done.returncode}): run it there and "
            "fix what it says"
        )


# -- functions.js ---------------------------------------------------------------------------------------------
def _text(value: str) -> str:
    """Text for one JSDoc line: no comment terminator, no line break, no '@' (mid-line, it still starts a tag:
    "@volatile" in a description would make the function volatile), shown as the full-width at sign (U+FF20) instead."""
    return re.sub(r"\s+", " ", value).replace("*/", "* /").replace("@", "\uff20").strip()


def js_name(name: str, taken: Collection[str] = ()) -> str:
    """A parameter's JavaScript name: the Python name (Excel shows it), '_' added to a reserved word or a clash."""
    while name in JS_RESERVED or name in taken:
        name += "_"
    return name


def jsdoc_type(parameter: FunctionParameter | None, office_type: str, dimensionality: str) -> str:
    """{number}, {string[][]}; a repeating parameter one dimension more ({number[]} or {number[][][]})."""
    dimensions = 0 if dimensionality == "scalar" else 2
    if parameter is not None and parameter.repeating:
        dimensions += 1
    return office_type + "[]" * dimensions


def _kind_text(parameter: FunctionParameter) -> str:
    """What a parameter takes, for one without a description: "a number", "a range of dates (serials)"."""
    word = {"integer": "whole number", "datetime": "date and time", "any": "value"}.get(parameter.type, parameter.type)
    if parameter.type in ("date", "datetime"):
        word += " (a date serial or ISO text)"
    if parameter.dimensionality == "scalar":
        return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"
    return f"a range of {word}s" if "(" not in word else f"a range of {word.replace(' (', 's (', 1)}"


def _description(function: FunctionInfo) -> str:
    text = function.description.strip() or function.signature
    if function.help.strip():
        text = f"{text.rstrip('.')}. {function.help.strip()}"
    return _text(text)


def _identifier(qualified_name: str) -> str:
    """The page-global JavaScript function for NAMESPACE.NAME, as PRICER$PRICE_OPTION: with a '$', which no
    browser global (JSON, URL, CSS) and no Python name has, so it shadows nothing and two names never meet."""
    return qualified_name.replace(".", "$")


def function_js(function: FunctionInfo) -> str:
    """One custom function: its JSDoc, a body that forwards to the shared runtime, and its association."""
    names: list[str] = []
    for parameter in function.parameters:
        names.append(js_name(parameter.name, set(names)))
    lines = ["/**", f" * {_description(function)}", f" * @customfunction {function.name} {function.name}"]
    if function.volatile:
        lines.append(" * @volatile")
    if function.streaming:
        lines.append(" * @streaming")
    for parameter, name in zip(function.parameters, names, strict=True):
        # a repeating parameter may be given no times (Python's *args): optional, or Excel asks for one
        shown = f"[{name}]" if parameter.optional or parameter.repeating else name
        kind = jsdoc_type(parameter, parameter.office_type, parameter.dimensionality)
        lines.append(f" * @param {{{kind}}} {shown} {_text(parameter.description or _kind_text(parameter))}")
    result = jsdoc_type(None, function.result.office_type, function.result.dimensionality)
    pairs = zip(function.parameters, names, strict=True)
    args = ", ".join(f"...({n} || [])" if p.repeating else n for p, n in pairs)  # Excel passes an array
    qualified = json.dumps(function.qualified_name)
    identifier = _identifier(function.qualified_name)
    if function.streaming:
        invocation = js_name("invocation", set(names))
        lines.append(f" * @param {{CustomFunctions.StreamingInvocation<{result}>}} {invocation}")
        body = f"  Shiftwork.stream({qualified}, [{args}], {invocation});"
        signature = ", ".join([*names, invocation])
    else:
        lines.append(f" * @returns {{{result}}}")
        body = f"  return Shiftwork.call({qualified}, [{args}]);"
        signature = ", ".join(names)
    lines += [" */", f"function {identifier}({signature}) {{", body, "}", ""]
    return "\n".join(lines)


def functions_js(addin: AddinInfo, api_url: str | None = None) -> str:
    """The namespace's functions.js: the runtime's settings, then every function."""
    settings = {
        "namespace": addin.namespace,
        "name": addin.name,
        "endpoint": api_url,  # None: the page's own origin (locally, the server that serves these files)
        "errorCodes": OFFICE_CODES,
    }
    head = [
        f"// {addin.namespace}'s custom functions, generated by `shiftwork excel build` from the Python signatures.",
        "// Do not edit: rebuild. functions.json is made from this file's JSDoc by custom-functions-metadata.",
        "/* global CustomFunctions, Shiftwork */",
        '"use strict";',
        f"Shiftwork.configure({json.dumps(settings)});",
        "",
    ]
    associations = [
        f"  CustomFunctions.associate({json.dumps(f.name)}, {_identifier(f.qualified_name)});" for f in addin.functions
    ]
    tail = [
        "// Outside Excel (the page opened in a browser to test the connection) there is no CustomFunctions.",
        'if (typeof CustomFunctions !== "undefined") {',
        *associations,
        "}",
        "",
    ]
    return "\n".join(head) + "\n".join(function_js(f) for f in addin.functions) + "\n".join(tail)


def run_metadata(source: Path, scripts: list[Path]) -> None:
    """functions.json beside each functions.js, by custom-functions-metadata (one node process for them all)."""
    pairs = [str(path) for script in scripts for path in (script, script.with_suffix(".json"))]
    command = ["node", str(source / "tools" / "metadata.js"), *pairs]
    try:
        done = subprocess.run(
            command, cwd=source, capture_output=True, text=True, timeout=METADATA_SECONDS, check=False
        )
    except FileNotFoundError:
        raise OfficeJsBuildError("node is needed to make functions.json: install Node 20+") from None
    if done.returncode != 0:
        raise OfficeJsBuildError(f"custom-functions-metadata refused the generated functions.js: {done.stderr[-1500:]}")


# -- manifest.xml ---------------------------------------------------------------------------------------------
def addin_id(base_url: str, namespace: str) -> str:
    """Stable per (where it is served, namespace): a local and a deployed add-in are two add-ins in Excel."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url.rstrip('/')}/addins/{namespace.lower()}"))


def _clip(text: str, longest: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= longest else text[: longest - 1] + "…"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def manifest_xml(
    addin: AddinInfo, base_url: str, template: str, api_url: str | None = None, id_seed: str | None = None
) -> str:
    """The add-in-only XML manifest for one namespace, every URL under base_url; its Id from id_seed (default
    base_url), for a build whose base_url is a placeholder the deployment replaces."""
    base = base_url.rstrip("/")
    domains = sorted({_origin(api_url)} - {_origin(base)}) if api_url else []
    app_domains = (
        "  <AppDomains>\n" + "".join(f"    <AppDomain>{escape(d)}</AppDomain>\n" for d in domains) + "  </AppDomains>\n"
        if domains
        else ""
    )

    def attribute(text: str) -> str:
        return quoteattr(text)[1:-1]  # the template supplies the quotes

    fields = {
        "id": addin_id(id_seed or base, addin.namespace),
        "version": MANIFEST_VERSION,
        "display_name": attribute(_clip(addin.name, MAX_SHORT)),
        "description": attribute(_clip(addin.description or f"{addin.namespace}.* worksheet functions", MAX_LONG)),
        "base": attribute(base),
        "folder": addin.namespace.lower(),
        "namespace": addin.namespace,
        "app_domains": app_domains,
        "short_title": attribute(_clip(f"{addin.name}: {addin.namespace}.* functions", MAX_SHORT)),
        "group_label": attribute(_clip(addin.name, MAX_SHORT)),
        "get_started": attribute(
            _clip(f"Type ={addin.namespace}. in a cell. Sign in with the Shiftwork button on the Home tab.", MAX_LONG)
        ),
    }
    return Template(template).substitute(fields)


# -- the build ------------------------------------------------------------------------------------------------
def _check_base_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidSpec(
            "url", base_url, "give where the add-in's files are served, as https://host:port or https://host/path"
        )


def build_officejs(
    functions: Functions, base_url: str, out: Path, *, api_url: str | None = None, id_seed: str | None = None
) -> list[Path]:
    """Write the add-in for every namespace in functions under out; returns the manifests' paths.

    base_url is where out/ is served (the manifests' URLs); api_url, where the functions call (default: the same
    origin as the page, as `shiftwork excel serve` serves both); id_seed, what the manifests' Ids derive from
    (default base_url: a local and a deployed add-in are two add-ins in Excel)."""
    _check_base_url(base_url)
    if api_url is not None:
        _check_base_url(api_url)
    if not functions.addins:
        raise InvalidSpec("module", "(none)", "defines no add-in functions: @addin.expose() some")
    source = source_dir()
    ensure_node_modules(source)
    out.mkdir(parents=True, exist_ok=True)
    for name in SHARED_FILES:
        shutil.copyfile(source / "src" / name, out / name)
    (out / "icons").mkdir(exist_ok=True)
    for size in ICON_SIZES:
        shutil.copyfile(source / "src" / "icons" / f"icon-{size}.png", out / "icons" / f"icon-{size}.png")
    template = (source / "src" / "manifest.xml").read_text()
    _remove_stale(out / "addins", {addin.namespace.lower() for addin in functions.addins})
    manifests, scripts = [], []
    for addin in functions.addins:
        folder = out / "addins" / addin.namespace.lower()
        folder.mkdir(parents=True, exist_ok=True)
        script = folder / "functions.js"
        script.write_text(functions_js(addin, api_url))
        scripts.append(script)
        shutil.copyfile(source / "src" / PAGE, folder / PAGE)
        manifest = folder / "manifest.xml"
        manifest.write_text(manifest_xml(addin, base_url, template, api_url, id_seed))
        manifests.append(manifest)
    run_metadata(source, scripts)
    return manifests


def _remove_stale(addins: Path, namespaces: set[str]) -> None:
    """A namespace the module no longer has: its folder goes, so the server stops offering its manifest."""
    if not addins.is_dir():
        return
    for folder in addins.iterdir():
        if folder.name not in namespaces and (folder / "manifest.xml").is_file():
            shutil.rmtree(folder)
