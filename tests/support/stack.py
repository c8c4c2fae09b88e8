"""A running Vitrine stack for tests: database, Redis, the real API app and real workers."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jsonschema_rs
import psycopg
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.services import services_of
from shared.db import Database, open_database
from shared.job_types import JobType
from shared.migrate import upgrade
from shared.queues import make_celery
from shared.settings import Settings
from shared.status import JobStatus
from shared.tenancy import create_api_key
from tests.support.job_types import TEST_JOB_TYPES
from tests.support.processes import LoggedProcess, start_worker, wait_for

POSTGRES_ADMIN_URL = os.environ.get(
    "VITRINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def stack_env(database_url: str, broker_url: str, **extra: str) -> dict[str, str]:
    """Environment for the API and workers under test: short sweeps and limits."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "BROKER_URL": broker_url,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "VITRINE_STALE_GRACE_S": "2",
        "VITRINE_REQUEUE_AFTER_S": "2",
        "VITRINE_SWEEP_INTERVAL_S": "1",
        "VITRINE_MAX_ATTEMPTS": "2",
    })
    env.update(extra)
    return env


class PostgresDatabase:
    """A throw-away database on the local PostgreSQL server."""

    def __init__(self) -> None:
        self.name = f"vitrine_test_{uuid.uuid4().hex[:10]}"
        admin = POSTGRES_ADMIN_URL
        self._admin = admin.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base, _, _ = admin.rpartition("/")
        self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Stack:
    backend: str
    env: dict[str, str]
    settings: Settings
    app: Flask
    db: Database
    workers: list[LoggedProcess] = field(default_factory=list)
    _keys: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    @property
    def celery(self) -> Celery:
        """The API's Celery app (what it sends jobs and webhook events with)."""
        return services_of(self.app).celery

    def key(self, tenant: str = "acme") -> str:
        """An API key for `tenant` (created once per stack)."""
        if tenant not in self._keys:
            with self.db.session() as session:
                self._keys[tenant] = create_api_key(session, tenant)
        return self._keys[tenant]

    def auth(self, tenant: str = "acme") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(tenant)}"}

    def submit(self, job_type: str, job_input: Any, tenant: str = "acme", **body: Any):
        return self.client.post(
            "/v1/jobs", json={"type": job_type, "input": job_input, **body},
            headers=self.auth(tenant),
        )

    def get(self, job_id: str, tenant: str = "acme") -> dict:
        response = self.client.get(f"/v1/jobs/{job_id}", headers=self.auth(tenant))
        assert response.status_code == 200, response.json
        return response.json

    def wait(self, job_id: str, tenant: str = "acme", timeout: float = 90,
             until: tuple[str, ...] | None = None) -> dict:
        """Poll the API until the job reaches one of `until` (default: any terminal)."""
        wanted = until or tuple(s.value for s in JobStatus if s.is_terminal)
        job = wait_for(
            lambda: (job := self.get(job_id, tenant))["status"] in wanted and job,
            timeout, interval=0.1, what=f"job {job_id} to become {wanted}",
        )
        self.check_result(job)
        return job

    def check_result(self, job: dict) -> None:
        """A succeeded job's result has the shape its type declares, and the job is what
        /openapi.json says a job of its type is."""
        job_type = self.settings.job_types.get(job["type"])
        if job["status"] == "succeeded" and job_type and job_type.result_schema:
            job_type.result_schema.model_validate(job["result"])
        self._job_schema.validate(job)

    @cached_property
    def _job_schema(self) -> jsonschema_rs.Validator:
        spec = self.client.get("/openapi.json").json
        return jsonschema_rs.Draft202012Validator(
            {"$ref": "#/components/schemas/Job", "components": spec["components"]})

    def run(self, job_type: str, job_input: Any, tenant: str = "acme", timeout: float = 90,
            **body: Any) -> dict:
        response = self.submit(job_type, job_input, tenant, **body)
        assert response.status_code == 202, response.json
        return self.wait(response.json["id"], tenant, timeout)

    def wait_workers_ready(self, timeout: float = 120) -> None:
        """Wait until every pool process, including replacements of killed ones, has its model."""
        for worker in self.workers:
            if worker.concurrency == 0:
                continue  # loads no model
            replaced = worker.count("Process 'ForkPoolWorker-")
            # Set up, not only loaded: a process still setting up its families takes no job,
            # though its parent may already have reserved one for it.
            worker.wait_for_log("event=process_ready", timeout=timeout,
                                times=worker.concurrency + replaced)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.db.dispose()


def build_stack(backend: str, database_url: str, broker_url: str, *,
                with_worker: bool = True, with_webhook_worker: bool = False,
                job_types: tuple[JobType, ...] = TEST_JOB_TYPES, **env_extra: str) -> Stack:
    env = stack_env(database_url, broker_url, **env_extra)
    upgrade(database_url)
    settings = Settings.from_env(env, job_types=job_types)
    # Rows the tests change directly send their webhook events like the API's and workers'.
    stack = Stack(backend=backend, env=env, settings=settings, app=create_app(settings),
                  db=open_database(settings, make_celery(settings)))
    if with_worker:
        stack.workers.append(start_cpu_worker(env, name=f"cpu-{backend}"))
    if with_webhook_worker:
        stack.workers.append(start_webhook_worker(env, name=f"webhooks-{backend}"))
    return stack


def _started_or_stopped(worker: LoggedProcess, line: str, timeout: float, times: int = 1) -> None:
    """Wait for `line`; a worker that does not get there is stopped, not left running (its
    fixture never returns it, so nothing else would stop it)."""
    try:
        worker.wait_for_log(line, timeout=timeout, times=times)
    except BaseException:
        worker.stop()
        raise


def start_cpu_worker(env: dict[str, str], *, name: str, concurrency: int = 2) -> LoggedProcess:
    """A real cpu worker; returns once every child has loaded the embedding model."""
    worker = start_worker(env, queues="cpu,embeddings,maintenance", concurrency=concurrency,
                          name=name)
    started = time.monotonic()
    _started_or_stopped(worker, "event=model_loaded kind=embedding", 120, times=concurrency)
    worker.load_seconds = time.monotonic() - started
    worker.concurrency = concurrency
    return worker


def start_gpu_worker(env: dict[str, str], *, name: str) -> LoggedProcess:
    """A real gpu-queue worker: one process, a threads pool feeding one batcher."""
    worker = start_worker(env, queues="gpu", concurrency=16, pool="threads", name=name)
    _started_or_stopped(worker, " ready.", 240)
    worker.concurrency = 1
    return worker


def start_webhook_worker(env: dict[str, str], *, name: str) -> LoggedProcess:
    """A webhooks-queue worker as scripts/up runs it: threads, no models."""
    worker = start_worker(env, queues="webhooks", concurrency=8, pool="threads", name=name)
    _started_or_stopped(worker, " ready.", 120)
    worker.concurrency = 0
    return worker
