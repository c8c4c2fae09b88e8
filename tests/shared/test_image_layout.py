"""The images' file layout, built without Docker: what the Dockerfile copies, installed as
the Dockerfile installs it, imports every entry point, and needs no package it does not declare.

The image runs `pip install .` on exactly the files its COPY lines bring in; a module that
is not copied (or not packaged) or a library that is imported but not declared would make a
container exit at start-up. Here the same files are copied into an empty folder, built into a
wheel, unpacked, and imported by `python -S` (no site: neither this checkout nor its editable
install is on the path) with the venv's third-party packages after it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENTRY_POINTS = ("api.wsgi", "worker.app", "shared.beat", "shared.flower", "shared.migrate")


def copied_sources() -> list[str]:
    """Build-context paths the Dockerfile's COPY lines name (not `COPY --from=<stage>`)."""
    sources = []
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", DOCKERFILE, re.M):
        *names, _destination = line.split()
        sources.extend(names)
    return sources


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project as the image installs it: the copied files, built and unpacked."""
    context = tmp_path_factory.mktemp("context")
    for name in copied_sources():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, context / name)
    wheels = tmp_path_factory.mktemp("wheels")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(context)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    target = tmp_path_factory.mktemp("site")
    (wheel,) = wheels.glob("vitrine-*.whl")
    zipfile.ZipFile(wheel).extractall(target)
    return target


def _run_isolated(installed: Path, code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    venv_site = sysconfig.get_paths()["purelib"]
    env = {"PYTHONPATH": f"{installed}:{venv_site}", "HF_HUB_OFFLINE": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'image.db'}",
           "BROKER_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_dockerfile_copies_the_packages_and_not_the_client():
    assert {"shared", "api", "worker", "pyproject.toml"} <= set(copied_sources())
    # The client package is for Vitrine's users; the server signs with its own code.
    assert not any("vitrine_client" in name or name.startswith("clients")
                   for name in copied_sources())


def test_every_entry_point_imports_from_the_image_layout(installed, tmp_path):
    code = (f"import importlib, sys\nfor name in {ENTRY_POINTS!r}: importlib.import_module(name)\n"
            f"print(importlib.import_module('api').__file__)")
    result = _run_isolated(installed, code, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith(str(installed)), result.stdout  # not this checkout


def test_package_data_is_in_the_image(installed):
    assert list((installed / "shared" / "migrations" / "versions").glob("0001_*.py"))
    assert list((installed / "worker" / "generation" / "lexicon").glob("*.txt"))


def test_imported_libraries_are_declared_dependencies(installed, tmp_path):
    """Every third-party distribution the entry points load is required by `vitrine[worker]`
    (directly or through another), so `pip install .[worker]` brings it into the image."""
    script = ROOT / "tests" / "support" / "undeclared_imports.py"
    code = (f"import runpy, sys; sys.argv = ['x', *{ENTRY_POINTS!r}]; "
            f"runpy.run_path({str(script)!r}, run_name='__main__')")
    # The wheel's metadata must be findable: unpacked wheels carry their .dist-info.
    result = _run_isolated(installed, code, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    undeclared = set(json.loads(result.stdout.strip().splitlines()[-1]))
    # Optional imports that work without the package: redis-py's observability module
    # imports OpenTelemetry inside a try (it is here for another tool); pip's build tools.
    optional = {"opentelemetry-api", "opentelemetry-sdk", "setuptools", "pip"}
    assert undeclared - optional == set()
