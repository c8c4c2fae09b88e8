"""Helpers the benchmarks share: fresh databases, a gunicorn API, a Celery worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import select

from shared.db import Database
from shared.migrate import upgrade
from shared.models import Tenant
from shared.tenancy import create_api_key

ROOT = Path(__file__).resolve().parent.parent
# The API's own settings (gevent workers, read deadlines, access log), as scripts/up runs it.
GUNICORN_FLAGS = ["-c", "python:api.gunicorn_conf"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(url: str, tenant: str = "bench") -> tuple[str, str]:
    """Migrate `url`, create a tenant with a key; returns (api key, tenant id)."""
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        key = create_api_key(session, tenant)
    with database.session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == tenant))
    database.dispose()
    return key, str(tenant_id)


def serve(app: str, env: dict, port: int, log: Path) -> subprocess.Popen:
    """gunicorn serving `app` on 127.0.0.1:port; returns once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *GUNICORN_FLAGS, app],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # an app without /healthz answers 404: it is up
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise SystemExit(f"{app} did not start; see {log}")


def start_worker(env: dict, log: Path, *args: str, ready: str, timeout: float = 300):
    """A Celery worker; returns once `ready` appears in its log."""
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker.app", "worker", *args],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while ready not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)  # never leave a half-started worker consuming the queues
            raise SystemExit(f"worker did not start; see {log}")
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def bench_env(**extra: str) -> dict:
    # Benchmarks measure the system, not a tenant's rate limit or quota.
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", VITRINE_LOG_LEVEL="WARNING",
               VITRINE_TENANT_SUBMIT_RATE="1000000", VITRINE_TENANT_SUBMIT_BURST="1000000",
               VITRINE_TENANT_MAX_ACTIVE_JOBS="1000000")
    env.update(extra)
    return env


def cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system) of a process and all its live descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total
