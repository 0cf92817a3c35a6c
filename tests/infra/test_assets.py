"""The assets as `cdk deploy` builds them on a machine without Docker. The functions' asset: pip installs the package
for Lambda's platform (manylinux aarch64, CPython 3.12). The runner image's build context: staged for docker build.
Needs the package index; skipped when it is out of reach."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.test_stack import ROOT

pytest.importorskip("aws_cdk", reason="the infra extra is not installed")

UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda's limit for a function's code and layers, unzipped
HANDLERS = ("dispatch", "complete", "s3_trigger", "api", "task")
# what must never ride along: the notebook machinery, the dashboard, the local stack, the infra tooling
HEAVY = (
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "IPython",
    "zmq",
    "pandas",
    "numpy",
    "streamlit",
    "xlwings",
    "moto",
    "docker",
    "aws_cdk",
    "constructs",
    "jsii",
    "cdk_nag",
    "cfnlint",
)
ELF_MACHINE_AARCH64 = 183
REMOVED_IN_312 = {"distutils", "imp", "asynchat", "asyncore", "smtpd"}  # stdlib here (3.11), not on Lambda
# imports the Lambda code path makes lazily of packages the asset does not hold; each fails there at call time
KNOWN_GAPS = {
    "jupyter_client": "installed_kernels' fallback to this machine's kernels, which the deployed functions never "
    "take: the stack sets SHIFTWORK_RUNNER_KERNELS (test_moto_deploy checks it); and a notebook task's runner",
    # the task function runs workflow tasks with the same runner code, whose notebook path it never takes: a
    # notebook task on the lambda executor is refused when the spec is made (models/resources.check_task_resources)
    "papermill": "a notebook task's execution (runner/notebook_task.py, engine.py, failure.py), never on Lambda",
    "nbconvert": "a notebook task's output formats (runner/outputs.py), never on Lambda",
    "zmq": "a notebook task's kernel (runner/engine.py), never on Lambda",
}


def _index_unreachable() -> str | None:
    """Why pip's package index cannot be reached (a HEAD request, 5 s at most), or None when it can."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/")
    try:
        urllib.request.urlopen(urllib.request.Request(f"{index}/pip/", method="HEAD"), timeout=5).close()
    except (OSError, ValueError) as error:
        return f"the package index {index} is out of reach ({error}): the Lambda asset cannot be pip-installed"
    return None


@dataclass(frozen=True)
class Assembly:
    outdir: Path
    template: dict
    manifest: dict  # the stack's assets.json


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    """One synth of the app with its assets built (bundling on)."""
    reason = _index_unreachable()
    if reason:
        pytest.skip(reason)
    sys.path.insert(0, str(ROOT / "infra"))
    import app as infra_app
    import aws_cdk as cdk

    outdir = tmp_path_factory.mktemp("cdk.out")
    application = cdk.App(outdir=str(outdir), context={"aws:cdk:bundling-stacks": ["**"]})
    started = time.monotonic()
    stack = infra_app.build(application)  # the functions' asset is bundled here, as the construct is made
    print(f"bundling: {time.monotonic() - started:.1f} s")
    cloud_assembly = application.synth()
    print(f"bundling and synth: {time.monotonic() - started:.1f} s")
    template = json.loads(Path(cloud_assembly.stacks[0].template_full_path).read_text())
    manifest = json.loads((outdir / f"{stack.artifact_id}.assets.json").read_text())
    return Assembly(outdir, template, manifest)


@pytest.fixture(scope="module")
def asset(assembly: Assembly) -> Path:
    """The functions' asset directory."""
    keys = {
        r["Properties"]["Code"]["S3Key"]
        for r in assembly.template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and "S3Key" in r["Properties"]["Code"]
    }
    [key] = keys  # one asset for every function
    [source] = [
        entry["source"]["path"]
        for entry in assembly.manifest["files"].values()
        if any(destination["objectKey"] == key for destination in entry["destinations"].values())
    ]
    return assembly.outdir / source


def test_the_runner_image_context_is_what_the_dockerfile_copies(assembly):
    [image] = assembly.manifest["dockerImages"].values()
    context = assembly.outdir / image["source"]["directory"]
    assert sorted(p.name for p in context.iterdir()) == ["Dockerfile", "README.md", "pyproject.toml", "src"]
    assert not list(context.rglob("__pycache__")) and not list(context.rglob("*.egg-info"))


def _top_level_names(asset: Path) -> set[str]:
    """What `import NAME` finds in the asset: packages, modules and extension modules at its root."""
    names = set()
    for entry in asset.iterdir():
        if entry.is_dir() and not entry.name.endswith((".dist-info", ".data")):
            names.add(entry.name)
        elif entry.suffix in (".py", ".so"):
            names.add(entry.name.split(".")[0])
    return names


def test_the_asset_holds_the_handlers_the_package_and_its_runtime_dependencies(asset):
    for handler in (*HANDLERS, "__init__"):
        assert (asset / "functions" / f"{handler}.py").is_file()
    assert (asset / "shiftwork" / "__init__.py").is_file()
    assert (asset / "shiftwork" / "api" / "events.py").is_file()
    names = _top_level_names(asset)
    assert {"aws_lambda_powertools", "pydantic", "pydantic_core", "pynamodb"} <= names
    # boto3 is one of the package's own dependencies: the asset carries the version the code was tested with
    # rather than the (older) one in Lambda's runtime
    assert {"boto3", "botocore"} <= names


def test_compiled_code_is_built_for_lambda_arm64_and_cpython_312(asset):
    [pydantic_core] = (asset / "pydantic_core").glob("_pydantic_core.*.so")
    assert pydantic_core.name == "_pydantic_core.cpython-312-aarch64-linux-gnu.so"
    extensions = sorted(asset.rglob("*.so"))
    for extension in extensions:
        header = extension.read_bytes()[:20]
        assert header[:5] == b"\x7fELF\x02", f"{extension.name} is not a 64-bit ELF file"
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, f"{extension.name} is not aarch64"
        if ".cpython-" in extension.name:
            assert ".cpython-312-aarch64-linux-gnu." in extension.name, extension.name
    for wheel in asset.glob("*.dist-info/WHEEL"):
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
        for tag in tags:
            python, abi, platform = tag.split("-")
            pure = abi == "none" and platform == "any"
            built = python == "cp312" and abi in ("cp312", "abi3") and "linux" in platform and "aarch64" in platform
            assert pure or built, f"{wheel.parent.name}: {tag}"
    tags = (next(asset.glob("pydantic_core-*.dist-info")) / "WHEEL").read_text()
    assert "Tag: cp312-cp312-manylinux" in tags and "_aarch64" in tags
    # nothing built for the machine that bundled: no bytecode of its Python, no console scripts for it
    assert not list(asset.rglob("*.pyc"))
    assert not (asset / "bin").exists()


def test_nothing_heavy_rides_along(asset):
    assert sorted(_top_level_names(asset) & set(HEAVY)) == []


def test_the_asset_fits_lambdas_unzipped_limit(asset):
    size = sum(path.stat().st_size for path in asset.rglob("*") if path.is_file())
    print(f"functions asset: {size / 2**20:.1f} MiB unzipped")
    assert size < UNZIPPED_LIMIT


# Run in a fresh interpreter: any import of a top-level name the asset does not hold fails, as it would on Lambda
# (the modules themselves load from this environment: the asset's extension modules are for another machine).
_IMPORT_ONLY_THE_ASSET = """
import importlib, importlib.abc, json, sys
allowed = set(json.loads(sys.argv[1]))
refused = set()

class OnlyTheAsset(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in allowed or top.startswith("_sysconfigdata"):
            return None
        refused.add(top)
        raise ModuleNotFoundError(f"No module named {name!r} in the Lambda asset", name=name)

sys.meta_path.insert(0, OnlyTheAsset())
for handler in sys.argv[2:]:
    importlib.import_module(handler)
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in ("functions", "shiftwork"))
print(json.dumps({"refused": sorted(refused), "loaded": loaded}))
"""


def _imported_names(source: str) -> set[str]:
    """Every module a source file imports, at the top or inside functions: dotted names, absolute imports only.

    Imports under `if TYPE_CHECKING:` never run, so they are not counted."""
    names: set[str] = set()
    pending: list[ast.AST] = [ast.parse(source)]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return names


def _module_file(asset: Path, module: str) -> Path | None:
    path = asset.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def test_the_handlers_import_only_what_the_asset_holds(asset):
    allowed = (_top_level_names(asset) | set(sys.stdlib_module_names) | set(sys.builtin_module_names)) - (
        REMOVED_IN_312
    )
    handlers = [f"functions.{handler}" for handler in HANDLERS]
    ran = subprocess.run(
        [sys.executable, "-c", _IMPORT_ONLY_THE_ASSET, json.dumps(sorted(allowed)), *handlers],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    imported = json.loads(ran.stdout)
    print("optional imports the asset does without:", ", ".join(imported["refused"]) or "none")

    assert [m for m in imported["loaded"] if _module_file(asset, m) is None] == []  # the asset has every one
    # what the handlers' modules, and the package modules they name, import later (inside functions)
    pending, seen, missing = list(imported["loaded"]), set(), {}
    while pending:
        module = pending.pop()
        source = _module_file(asset, module)
        if module in seen or source is None:
            continue
        seen.add(module)
        for name in _imported_names(source.read_text()):
            top = name.partition(".")[0]
            if top in ("functions", "shiftwork"):
                pending.append(name)
            elif top not in allowed:
                missing.setdefault(top, set()).add(module)
    assert set(missing) == set(KNOWN_GAPS), f"imported lazily but not in the asset: {missing}"
