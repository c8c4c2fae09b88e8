"""Thin Celery tasks: one per job type, each handing the job id to the JobRunner."""

from __future__ import annotations

import logging
import uuid

from celery import Celery, Task
from celery.worker.request import Request

from shared import fairshare
from shared.dispatch import send_catalog_embedding
from shared.job_types import JobType
from shared.queues import DELIVER_WEBHOOK_TASK, EMBED_CATALOG_TASK, SWEEP_TASK, task_name_for
from worker.job_metrics import record_finished
from worker.recommendation.embedding import embed_chunk
from worker.runner import JobRunner, record_hard_timeout
from worker.runtime import WorkerRuntime
from worker.sweeper import sweep
from worker.webhooks.delivery import deliver

log = logging.getLogger("vitrine.tasks")


class JobRequest(Request):
    """Records a hard time-out: the child was killed, so only the parent can write it."""

    def on_timeout(self, soft: bool, timeout: float) -> None:
        super().on_timeout(soft, timeout)
        if not soft and self.args:
            try:
                recorded = record_hard_timeout(self.task.runtime.database(), self.args[0],
                                               timeout)
                log.warning("event=job_hard_timeout job_id=%s recorded=%s", self.args[0],
                            recorded)
                if recorded:
                    record_finished(self.task.runtime.database(), self.args[0])
            except Exception:
                log.exception("event=hard_timeout_not_recorded job_id=%s", self.args[0])


class JobTask(Task):
    Request = JobRequest
    runtime: WorkerRuntime


class JobFailed(Exception):
    """Raised after a failure is recorded, so the task itself ends FAILURE (Flower, `celery
    events`) instead of SUCCESS. It is declared in the task's `throws`: Celery logs it as an
    expected outcome without a traceback, and acks the message (the job is settled)."""

    def __init__(self, job_id: str, code: str, message: str) -> None:
        super().__init__(f"job {job_id} failed: {code}: {message}")
        self.job_id, self.code, self.message = job_id, code, message

    def __reduce__(self):  # events and result backends pickle or repr exceptions
        return type(self), (self.job_id, self.code, self.message)


def register_job_task(app: Celery, runtime: WorkerRuntime, job_type: JobType,
                      step: str | None = None) -> Task:
    """Define the task `vitrine.run.<job_type>` (or `...<job_type>.<step>` for a later step
    of a multi-step type) with that type's time limits."""
    name = job_type.name
    soft, hard = runtime.settings.time_limits_for(name)

    def run_job(job_id: str) -> str:
        runner = JobRunner(db=runtime.database(), settings=runtime.settings,
                           celery=runtime.celery)
        try:
            outcome = runner.run(job_id, name, runtime.handler(name, step), step=step)
        finally:  # a slot of this tenant (or another's) is free: send the next held jobs
            # (of the lane this step ran on: a hand-off frees the first step's lane too)
            _release_held(runtime, runtime.settings.queue_for(name, step))
        if outcome in {"succeeded", "failed"}:
            record_finished(runtime.database(), job_id)
        if outcome == "failed" and runner.failure is not None:
            raise JobFailed(job_id, *runner.failure)
        return outcome

    run_job.__name__ = run_job.__qualname__ = f"run_{name}" + (f"_{step}" if step else "")
    return app.task(
        name=task_name_for(name, step), base=JobTask, runtime=runtime, soft_time_limit=soft,
        time_limit=hard, throws=(JobFailed,),
    )(run_job)


def _release_held(runtime: WorkerRuntime, queue: str) -> None:
    try:
        fairshare.release(runtime.database(), runtime.celery, runtime.settings, queue)
    except Exception:  # the sweeper releases them on its next pass
        log.exception("event=release_failed queue=%s", queue)


def register_embed_task(app: Celery, runtime: WorkerRuntime) -> Task:
    @app.task(name=EMBED_CATALOG_TASK, bind=True)
    def embed_catalog(self: Task, catalog_id: str, lease: str | None = None) -> int:
        """Embed the next chunk of a catalog's new and changed items and send the chunk
        after it (idempotent; duplicates are harmless)."""
        chunk = embed_chunk(runtime.database(), runtime.require_models().require_embedder(),
                            runtime.settings, uuid.UUID(catalog_id), lease)
        if chunk.continue_with:  # if this send fails, the sweeper re-sends after the lease
            send_catalog_embedding(self.app, uuid.UUID(catalog_id), chunk.continue_with)
        return chunk.embedded

    return embed_catalog


def register_sweep_task(app: Celery, runtime: WorkerRuntime) -> Task:
    @app.task(name=SWEEP_TASK, bind=True)
    def sweep_jobs(self: Task) -> dict[str, int]:
        """Re-send jobs the broker lost and settle runs whose worker died."""
        return sweep(runtime.database(), runtime.settings, self.app).as_dict()

    return sweep_jobs


def register_webhook_task(app: Celery, runtime: WorkerRuntime) -> Task:
    # The sender enforces webhook_timeout_s itself; these limits only catch a stuck task.
    limit = runtime.settings.webhook_timeout_s + 20

    @app.task(name=DELIVER_WEBHOOK_TASK, bind=True, soft_time_limit=limit,
              time_limit=limit + 10)
    def deliver_webhook(self: Task, delivery_id: str) -> str:
        """Make the next attempt of a webhook delivery (duplicates are skipped)."""
        return deliver(runtime.database(), runtime.settings, self.app, uuid.UUID(delivery_id))

    return deliver_webhook
