"""The dashboard reads and acts only through the Service or the Client: never boto3, the store or pynamodb."""

from __future__ import annotations

import ast
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
ALLOWED = ("shiftwork.models", "shiftwork.errors", "shiftwork.api.service", "shiftwork.connection", "shiftwork.config")
FORBIDDEN = ("boto3", "botocore", "pynamodb", "moto")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_the_dashboard_imports_only_the_facade_and_the_models():
    scripts = sorted(DASHBOARD.rglob("*.py"))
    assert len(scripts) > 10  # app, backend, keys, the views and the helpers
    offending = {
        f"{path.relative_to(DASHBOARD)}: {name}"
        for path in scripts
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN or (name.startswith("shiftwork") and not name.startswith(ALLOWED))
    }
    assert not offending
