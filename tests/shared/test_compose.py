"""docker-compose.yml parses and every command points at a real module and entry point.

No Docker engine runs here: the file is validated against the compose-spec JSON schema
(vendored in tests/shared/schemas) and checked against the rules operators rely on.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
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


# --- operators' rules: schema, restarts, healthchecks, start order, grace periods ---------

SCHEMA = json.loads((ROOT / "tests" / "shared" / "schemas" / "compose_spec.json").read_text())
# Services that run once and exit; the others wait for them to complete successfully.
ONE_SHOT = {name for s in SERVICES.values()
            for name, dep in (s.get("depends_on") or {}).items()
            if isinstance(dep, dict) and dep.get("condition") == "service_completed_successfully"}


def _compose_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def test_compose_file_matches_the_compose_spec_schema():
    assert _compose_errors(COMPOSE) == []


def test_schema_check_catches_a_misspelt_key():
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["api"]["restart_policy"] = "always"
    broken["services"]["redis"]["healthcheck"]["intervall"] = "5s"
    errors = _compose_errors(broken)
    assert any("restart_policy" in e for e in errors) and any("intervall" in e for e in errors)


def _compose_cli() -> list[str] | None:
    """`docker-compose` or `docker compose`, whichever works here (no engine needed)."""
    if shutil.which("docker-compose"):
        return [shutil.which("docker-compose")]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True,
                                 timeout=30).returncode == 0:
        return [docker, "compose"]
    return None


@pytest.mark.skipif(_compose_cli() is None,
                    reason="no compose CLI here; the schema test above stands in for it")
def test_compose_cli_accepts_the_file():
    result = subprocess.run([*_compose_cli(), "-f", str(ROOT / "docker-compose.yml"), "config",
                             "-q"], env={"FLOWER_BASIC_AUTH": "u:p", "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_long_lived_services_restart_and_have_a_healthcheck(name):
    service = SERVICES[name]
    assert service.get("restart") == "unless-stopped"
    check = service.get("healthcheck") or {}
    assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_one_shot_services_are_retried_on_failure_only():
    assert ONE_SHOT == {"migrate"}
    assert SERVICES["migrate"]["restart"] == "on-failure"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_services_wait_for_healthy_or_completed_dependencies(name):
    for dependency, rule in (SERVICES[name].get("depends_on") or {}).items():
        assert rule["condition"] in {"service_healthy", "service_completed_successfully"}, (
            name, dependency)
        if rule["condition"] == "service_healthy":
            assert "healthcheck" in SERVICES[dependency], dependency


def test_api_healthcheck_asks_readyz():
    assert "/readyz" in " ".join(SERVICES["api"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", [n for n, s in SERVICES.items()
                                  if s.get("command", [None])[0] == "celery"
                                  and "worker" in s["command"]])
def test_worker_healthcheck_pings_its_own_node(name):
    command = SERVICES[name]["command"]
    node = command[command.index("-n") + 1].replace("%h", "$$HOSTNAME")
    check = " ".join(SERVICES[name]["healthcheck"]["test"])
    assert "inspect ping" in check and f"-d {node}" in check


def test_beat_healthcheck_watches_the_schedule_file_beat_writes():
    command = SERVICES["beat"]["command"]
    schedule = command[command.index("-s") + 1]
    check = SERVICES["beat"]["healthcheck"]["test"]
    assert check[1:5] == ["python", "-m", "shared.healthcheck", "beat"] and schedule in check


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def test_model_workers_grace_period_covers_the_longest_hard_time_limit():
    """Celery's warm shutdown lets running jobs finish; compose must wait that long for the
    longest job (or step) any of the worker's queues runs."""
    from shared.settings import Settings

    environment = {k: str(v) for k, v in SERVICES["worker-cpu"]["environment"].items()}
    settings = Settings.from_env(environment)
    hard_limits: dict[str, float] = {}
    for job_type in settings.job_types.values():
        for queue in {settings.queue_for(job_type.name), *(s.queue for s in job_type.steps)}:
            hard_limits[queue] = max(hard_limits.get(queue, 0.0),
                                     settings.time_limits_for(job_type.name)[1])
    checked = set()
    for name, service in SERVICES.items():
        command = service.get("command") or []
        if command[:1] != ["celery"] or "worker" not in command:
            continue
        queues = set(command[command.index("-Q") + 1].split(","))
        limit = max([hard_limits[q] for q in queues if q in hard_limits]
                    or [settings.webhook_timeout_s + 30])
        assert _seconds(service["stop_grace_period"]) >= limit, name
        checked |= queues & set(hard_limits)
    assert checked == set(hard_limits)  # every lane that runs jobs has a worker here


def test_volumes_keep_the_database_and_the_model_cache():
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    for name in ("worker-cpu", "worker-gpu"):
        assert any(v.startswith("model-cache:") for v in SERVICES[name]["volumes"]), name


def test_shared_healthcheck_tells_a_live_beat_from_a_stuck_one(tmp_path):
    from shared.healthcheck import beat_is_alive

    schedule = tmp_path / "celerybeat-schedule"
    assert not beat_is_alive(schedule, 300)
    (tmp_path / "celerybeat-schedule.db").write_text("x")
    assert beat_is_alive(schedule, 300)
    assert not beat_is_alive(schedule, 300, now=time.time() + 301)
