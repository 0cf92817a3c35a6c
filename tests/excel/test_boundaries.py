"""shiftwork.excel sits below the API: it imports the standard library, pydantic and Shiftwork's errors only, so the
add-in's Lambda and every client generator load no store, no boto3, no Powertools."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "shiftwork" / "excel"
ALLOWED = ("shiftwork.excel", "shiftwork.errors", "pydantic", "__future__")
SERVING = {("addin.py", "run"): "shiftwork.cli.excel"}  # Addin.run starts the server: the one way up, on purpose


def imports(path: Path) -> list[tuple[str, str]]:
    """(module imported, the function it is imported in, or '' at the top level)."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inside = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where
            if isinstance(child, ast.Import):
                found.extend((alias.name, where) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.module, where))
            visit(child, inside)

    visit(ast.parse(path.read_text()), "")
    return found


def test_the_excel_package_imports_nothing_above_it():
    checked = 0
    for path in sorted(PACKAGE.glob("*.py")):
        for module, where in imports(path):
            checked += 1
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or module.startswith(ALLOWED):
                continue
            assert SERVING.get((path.name, where)) == module, f"{path.name} ({where or 'top level'}) imports {module}"
    assert checked > 20
