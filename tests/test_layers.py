"""The layering the architecture notes promise: projections read events and SQL through
their own protocol (projections/sql.py), never through adapters; domain/ imports nothing
from the outer layers. Checked on the source, so a lazy import inside a function counts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


@pytest.mark.parametrize(("package", "forbidden"), [
    ("projections", ("adapters", "tools")),
    ("domain", ("adapters", "projections", "tools")),
])
def test_layer_imports(package: str, forbidden: tuple[str, ...]) -> None:
    assert offending(package, forbidden) == []


def test_the_checker_sees_imports() -> None:
    # Guard against a vacuous pass: the adapters do import projections.
    assert any(m.startswith("projections") for m in
               imported_modules(ROOT / "adapters" / "bootstrap.py"))
