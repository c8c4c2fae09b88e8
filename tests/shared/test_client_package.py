"""The client and the server are separate distributions: neither imports the other."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"
SERVER_PACKAGES = ("api", "shared", "worker")
# What the client's modules may import besides the standard library: httpx, and the CLI's
# extra (click, rich) in cli.py only.
CLIENT_ALLOWED = {"httpx", "vitrine_client"}
CLI_ALLOWED = CLIENT_ALLOWED | {"click", "rich"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots - set(sys.stdlib_module_names) - {"__future__"}


def test_the_server_neither_imports_nor_ships_the_client():
    offenders = {str(path.relative_to(ROOT)) for package in SERVER_PACKAGES
                 for path in (ROOT / package).rglob("*.py")
                 if "vitrine_client" in _imported_roots(path)}
    assert offenders == set()
    server = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert not any("vitrine_client" in pattern
                   for pattern in server["tool"]["setuptools"]["packages"]["find"]["include"])
    assert not (ROOT / "vitrine_client").exists()


def test_the_client_needs_only_httpx():
    meta = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert [d.split(">")[0] for d in meta["dependencies"]] == ["httpx"]
    for path in (CLIENT / "vitrine_client").rglob("*.py"):
        allowed = CLI_ALLOWED if path.name == "cli.py" else CLIENT_ALLOWED
        assert _imported_roots(path) <= allowed, path.name
