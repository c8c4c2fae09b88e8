"""Thin Celery tasks: one per job type, each handing the job id to the JobRunner."""

from __future__ import annotations

import logging
import uuid

from celery import Celery, Task
from celery.worker.request import Request

from shared.db import Database, open_database
from shared.queues import DELIVER_WEBHOOK_TASK, EMBED_CATALOG_TASK, SWEEP_TASK, task_name_for
from shared.settings import Settings
from worker import runtime
from worker.recommendation.embedding import embed_pending
from worker.runner import Handler, JobRunner, record_hard_timeout
from worker.sweeper import sweep
from worker.webhooks.delivery import deliver

log = logging.getLogger("vitrine.tasks")

_parent_db: Database | None = None


def _db_in_parent(celery: Celery) -> Database:
    # Only the parent uses this (after a hard time limit); children have their own engine.
    global _parent_db
    if _parent_db is None:
        _parent_db = open_database(Settings.from_env(), celery)
    return _parent_db


class JobRequest(Request):
    """Records a hard time-out: the child was killed, so only the parent can write it."""

    def on_timeout(self, soft: bool, timeout: float) -> None:
        super().on_timeout(soft, timeout)
        if not soft and self.args:
            try:
                recorded = record_hard_timeout(_db_in_parent(self.task.app), self.args[0],
                                               timeout)
                log.warning("event=job_hard_timeout job_id=%s recorded=%s", self.args[0],
                            recorded)
            except Exception:
                log.exception("event=hard_timeout_not_recorded job_id=%s", self.args[0])


class JobTask(Task):
    Request = JobRequest


def register_job_task(app: Celery, settings: Settings, job_type: str, handler: Handler) -> Task:
    """Define the task `vitrine.run.<job_type>` with that type's time limits."""
    soft, hard = settings.time_limits_for(job_type)

    def run_job(job_id: str) -> str:
        state = runtime.current()
        runner = JobRunner(db=state.db, settings=state.settings, registry=state.registry)
        return runner.run(job_id, job_type, handler)

    run_job.__name__ = run_job.__qualname__ = f"run_{job_type}"
    return app.task(
        name=task_name_for(job_type), base=JobTask, soft_time_limit=soft, time_limit=hard,
    )(run_job)


def register_embed_task(app: Celery) -> Task:
    @app.task(name=EMBED_CATALOG_TASK)
    def embed_catalog(catalog_id: str) -> int:
        """Embed a catalog's new and changed items (idempotent; duplicates are harmless)."""
        state = runtime.current()
        return embed_pending(state.db, state.registry.require_embedder(),
                             uuid.UUID(catalog_id))

    return embed_catalog


def register_sweep_task(app: Celery) -> Task:
    @app.task(name=SWEEP_TASK, bind=True)
    def sweep_jobs(self: Task) -> dict[str, int]:
        """Re-send jobs the broker lost and settle runs whose worker died."""
        state = runtime.current()
        return sweep(state.db, state.settings, self.app).as_dict()

    return sweep_jobs


def register_webhook_task(app: Celery, settings: Settings) -> Task:
    # The sender enforces webhook_timeout_s itself; these limits only catch a stuck task.
    limit = settings.webhook_timeout_s + 20

    @app.task(name=DELIVER_WEBHOOK_TASK, bind=True, soft_time_limit=limit,
              time_limit=limit + 10)
    def deliver_webhook(self: Task, delivery_id: str) -> str:
        """Make the next attempt of a webhook delivery (duplicates are skipped)."""
        state = runtime.current()
        return deliver(state.db, state.settings, self.app, uuid.UUID(delivery_id))

    return deliver_webhook
