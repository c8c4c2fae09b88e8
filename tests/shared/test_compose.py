"""docker-compose.yml parses and every command points at a real module and entry point.

No Docker engine runs here, so this is as far as the file can be checked without one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_all_services_are_declared():
    assert {"redis", "postgres", "migrate", "api", "worker-cpu", "worker-gpu",
            "worker-webhooks", "flower", "beat"} <= set(SERVICES)


def test_build_targets_exist_in_dockerfile():
    stages = set(re.findall(r"^FROM \S+ AS (\w+)", (ROOT / "Dockerfile").read_text(), re.M))
    for name, service in SERVICES.items():
        if "build" in service:
            assert service["build"]["target"] in stages, name


def _entry_point(command: list[str]) -> tuple[str, str | None]:
    """(module, attribute) that a command would load."""
    if command[:2] == ["python", "-m"]:
        return command[2], None
    if command[0] == "celery":
        return command[command.index("-A") + 1], "app"
    if command[0] == "gunicorn":
        module, _, attribute = command[-1].partition(":")
        return module, attribute
    raise AssertionError(f"unknown command {command}")


@pytest.mark.parametrize("name", [n for n, s in SERVICES.items() if "build" in s])
def test_commands_point_at_real_entry_points(name):
    module_name, attribute = _entry_point(SERVICES[name]["command"])
    # A fresh interpreter, as the container would start: nothing registered by other tests.
    code = (f"import importlib; module = importlib.import_module({module_name!r}); "
            f"assert getattr(module, {attribute or 'main'!r}, None) is not None")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_celery_queues_exist_and_gpu_worker_is_one_process_with_a_gpu():
    from shared.queues import ALL_QUEUES

    for name in ("worker-cpu", "worker-gpu"):
        command = SERVICES[name]["command"]
        assert set(command[command.index("-Q") + 1].split(",")) <= set(ALL_QUEUES)
    gpu = SERVICES["worker-gpu"]
    # One process (a threads pool, not prefork) so that one model and one batcher serve all.
    assert gpu["command"][gpu["command"].index("--pool") + 1] == "threads"
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]


def test_flower_requires_basic_auth_from_its_environment():
    """The password is in Flower's environment, never on its command line (ps shows that)."""
    flower = SERVICES["flower"]
    assert "FLOWER_BASIC_AUTH" in flower["environment"]
    assert not any("basic-auth" in arg or "basic_auth" in arg for arg in flower["command"])
