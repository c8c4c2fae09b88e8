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


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _, _ in documented_variables() if f"`{name}`" not in readme]
    assert missing == []
