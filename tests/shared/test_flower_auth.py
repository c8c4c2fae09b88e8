"""Flower as scripts/up and compose run it: password from the environment, /metrics behind it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
import yaml

from tests.support.processes import ROOT, LoggedProcess, free_port, wait_for

PASSWORD = "s3cret-flower-pw"


@pytest.fixture(scope="module")
def flower(redis_server):
    """A real Flower on loopback, started like scripts/up starts it."""
    port = free_port()
    env = dict(os.environ, BROKER_URL=redis_server.url, FLOWER_BASIC_AUTH=f"admin:{PASSWORD}")
    process = LoggedProcess(
        [str(Path(os.sys.executable).parent / "celery"), "-A", "shared.flower", "flower",
         "--address=127.0.0.1", f"--port={port}"], env, "flower")
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.process.poll() is not None:
            raise RuntimeError(process.output[-3000:])
        try:
            return requests.get(f"{url}/healthcheck", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for(answers, 60, what="flower to answer")
    yield url, process
    process.stop()


def test_metrics_need_the_password(flower):
    url, _ = flower
    assert requests.get(f"{url}/metrics", timeout=5).status_code == 401
    assert requests.get(f"{url}/metrics", auth=("admin", "wrong"), timeout=5).status_code == 401
    allowed = requests.get(f"{url}/metrics", auth=("admin", PASSWORD), timeout=5)
    assert allowed.status_code == 200 and "flower_" in allowed.text
    assert requests.get(f"{url}/workers", timeout=5).status_code == 401


def test_the_password_is_not_on_any_command_line(flower):
    _, process = flower
    pids = [process.process.pid] + [
        int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
        and _parent(p) == process.process.pid]
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert PASSWORD not in cmdline and "basic-auth" not in cmdline, cmdline


def _parent(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_scripts_and_compose_pass_the_password_by_environment_and_keep_metrics_closed():
    up = (ROOT / "scripts" / "up").read_text()
    assert "--basic-auth" not in up and "FLOWER_BASIC_AUTH=" in up
    assert "-A shared.flower flower --address=127.0.0.1" in up
    flower = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["flower"]
    assert not any("basic-auth" in arg for arg in flower["command"])
    assert "FLOWER_BASIC_AUTH" in flower["environment"]
    assert flower["command"][:3] == ["celery", "-A", "shared.flower"]
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])
