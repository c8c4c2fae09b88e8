"""Smoke test of the production entry points exactly as scripts/up starts them (gunicorn
`api.wsgi` with api.gunicorn_conf, `celery -A worker.app worker`, `celery -A shared.beat
beat`, migrations by `python -m shared.migrate`, the key by `flask create-api-key`), against
a throw-away Redis db and SQLite file: a real job over HTTP, and a job the broker never got
that beat's sweep sends. Every other test runs tests.support.worker_app."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid

import pytest
import redis

from shared.db import Database
from shared.models import Job, Tenant, utcnow
from tests.support.processes import ROOT, LoggedProcess, celery_command, wait_for
from tests.support.server import ApiServer
from tests.support.stack import stack_env

EVENTS = [{"type": "purchase", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG",
           "price": 2.5, "quantity": 2, "order_id": "o1"},
          {"type": "view", "timestamp": "2011-05-02T10:00:00Z", "title": "BLUE MUG"}]


def _http(method: str, url: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.mark.slow
def test_the_production_entry_points_run_a_job_and_a_sweep(redis_server, tmp_path):
    broker = redis.Redis(port=redis_server.port, db=4)  # a db of this test's own
    broker.flushdb()
    env = stack_env(f"sqlite:///{tmp_path / 'vitrine.db'}",
                    f"redis://127.0.0.1:{redis_server.port}/4",
                    VITRINE_TORCH_THREADS="1", WEB_CONCURRENCY="1")
    subprocess.run([sys.executable, "-m", "shared.migrate"], cwd=ROOT, env=env, check=True,
                   timeout=120)
    key = subprocess.run([sys.executable, "-m", "flask", "--app", "api", "create-api-key",
                          "--tenant", "smoke"], cwd=ROOT, env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout.strip()
    processes: list = []
    try:
        api = ApiServer(env)
        processes.append(api)
        worker = LoggedProcess(celery_command("worker", "-Q", "cpu,maintenance",
                                              "--concurrency", "1", "-n", "cpu-smoke@%h",
                                              app="worker.app"), env, "worker-smoke")
        processes.append(worker)
        beat = LoggedProcess(celery_command("beat", "-s", str(tmp_path / "celerybeat-schedule"),
                                            app="shared.beat"), env, "beat-smoke")
        processes.append(beat)
        worker.wait_for_log(" ready.", timeout=240)

        status, job = _http("POST", f"{api.url}/v1/jobs", key,
                            {"type": "user_profile", "input": {"events": EVENTS}})
        assert status == 202 and job["status"] == "queued"
        done = wait_for(lambda: (j := _http("GET", f"{api.url}/v1/jobs/{job['id']}", key)[1])
                        ["status"] in {"succeeded", "failed"} and j, 120,
                        what="the job to finish")
        assert done["status"] == "succeeded", done
        assert done["result"]["rfm"]["segment"] != "prospect"  # it bought something
        assert f"event=job_succeeded job_id={job['id']}" in worker.output

        # A job whose message never reached the broker: only beat's sweep can send it.
        database = Database(env["DATABASE_URL"])
        lost_id = uuid.uuid4()
        with database.session() as session:
            tenant = session.query(Tenant).filter_by(name="smoke").one()
            session.add(Job(id=lost_id, tenant_id=tenant.id, type="user_profile",
                            status="queued", input={"events": EVENTS}, priority=5,
                            attempts=0, created_at=utcnow(), enqueued_at=None))
        swept = wait_for(lambda: (j := _http("GET", f"{api.url}/v1/jobs/{lost_id}", key)[1])
                         ["status"] == "succeeded" and j, 120, what="the swept job to run")
        assert swept["attempts"] == 1
        # Nothing but beat sends the sweep task (it logs only warnings, so the worker's
        # log of the sweep is the evidence).
        assert "event=sweep resent_queued=1" in worker.output
        database.dispose()
    finally:
        for process in reversed(processes):
            process.stop()
        broker.flushdb()
