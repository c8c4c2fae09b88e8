"""Everything that puts a message on the broker: jobs, webhook deliveries, catalog embedding.

The database row is always the record and is committed first; a message is only a nudge.
So a send that fails (broker down) returns False and is logged, never raised: the sweeper
finds the row later and sends it again.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Celery

from shared.queues import (
    DELIVER_WEBHOOK_TASK,
    EMBED_CATALOG_TASK,
    WEBHOOKS_QUEUE,
    broker_priority,
    task_name_for,
)
from shared.settings import Settings

log = logging.getLogger(__name__)


def send_job(
    celery: Celery, settings: Settings, *, job_id: uuid.UUID, job_type: str, priority: int,
    step: str | None = None, request_id: str | None = None,
) -> bool:
    """Publish the job's id to the queue of its type (or of its current later `step`).
    False when the broker could not take it.

    `request_id` rides in the task's headers, so the worker's log lines for the job carry it.
    """
    # A missing route is a settings error, not the broker's: it raises.
    queue = settings.queue_for(job_type, step)
    headers = {"request_id": request_id} if request_id else None
    return _send(celery, task_name_for(job_type, step), job_id,
                 f"job_id={job_id}" + (f" step={step}" if step else ""),
                 queue=queue, priority=broker_priority(priority), headers=headers)


def send_jobs(celery: Celery, settings: Settings,
              jobs: list[tuple[uuid.UUID, str, int]]) -> bool:
    """Publish many jobs (id, type, priority) through one producer and one Redis pipeline
    (kombu's publish batch): one round trip instead of one per job. False when the broker
    could not take them; which of them got through is then unknown, and the caller marks
    them all never-sent (a duplicate message is skipped by the worker's claim)."""
    if not jobs:
        return True
    try:
        with celery.producer_or_acquire() as producer, producer.batch(max_size=len(jobs) + 1):
            for job_id, job_type, priority in jobs:
                celery.send_task(task_name_for(job_type), args=[str(job_id)],
                                 queue=settings.queue_for(job_type),
                                 priority=broker_priority(priority), producer=producer)
    except Exception as exc:  # kombu raises several unrelated types for a dead broker
        log.warning("event=enqueue_failed task=bulk jobs=%d first=%s error=%r", len(jobs),
                    jobs[0][0], exc)
        return False
    return True


def send_delivery(celery: Celery, delivery_id: uuid.UUID, countdown: float = 0) -> bool:
    """Put one webhook delivery on the webhooks queue, after `countdown` seconds."""
    return _send(celery, DELIVER_WEBHOOK_TASK, delivery_id, f"delivery={delivery_id}",
                 queue=WEBHOOKS_QUEUE, countdown=countdown or None)


def send_catalog_embedding(celery: Celery, catalog_id: uuid.UUID) -> bool:
    """Ask a cpu worker to embed the catalog's new and changed items."""
    return _send(celery, EMBED_CATALOG_TASK, catalog_id, f"catalog={catalog_id}")


def _send(celery: Celery, task: str, row_id: uuid.UUID, names: str, **options: Any) -> bool:
    try:
        celery.send_task(task, args=[str(row_id)], **options)
    except Exception as exc:  # kombu raises several unrelated types for a dead broker
        log.warning("event=enqueue_failed task=%s %s error=%r", task, names, exc)
        return False
    return True
