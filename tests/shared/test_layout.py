"""The import arrows stay as drawn: api -> shared <- worker, and shared imports neither."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import documented_variables

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "api": {"worker", "torch", "transformers", "sentence_transformers"},
    "worker": {"api", "flask"},
    "shared": {"api", "worker", "flask", "torch", "transformers", "sentence_transformers"},
}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_it_may(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {p: bad for p, bad in offenders.items() if bad} == {}


def test_api_app_loads_without_torch_or_worker():
    code = ("import sys, api.wsgi; heavy = ('torch', 'worker', 'transformers'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in heavy]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _settings_table() -> dict[str, str]:
    """README's Settings table: variable -> its default column."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def test_every_setting_is_in_the_readme_table():
    """The Settings table names exactly the declared variables, each with its default."""
    table = _settings_table()
    declared = {name: default for name, default, _ in documented_variables()}
    assert sorted(table) == sorted(declared)
    for name, default in declared.items():
        column = table[name]
        if default == "":
            assert column.startswith("empty"), (name, column)
        else:
            assert column.startswith(f"`{default.split()[0]}`"), (name, default, column)
