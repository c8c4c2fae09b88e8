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


def send_delivery(celery: Celery, delivery_id: uuid.UUID, countdown: float = 0) -> bool:
    """Put one webhook delivery on the webhooks queue, after `countdown` seconds."""
    return _send(celery, DELIVER_WEBHOOK_TASK, delivery_id, f"delivery={delivery_id}",
                 queue=WEBHOOKS_QUEUE, countdown=countdown or None)


def send_catalog_embedding(celery: Celery, catalog_id: uuid.UUID,
                           lease: str | None = None) -> bool:
    """Ask an embeddings worker for the next chunk of the catalog's new and changed items
    (`lease`: the chain of chunks this message continues)."""
    return _send(celery, EMBED_CATALOG_TASK, catalog_id, f"catalog={catalog_id}",
                 extra_args=[lease] if lease else [])


def _send(celery: Celery, task: str, row_id: uuid.UUID, names: str,
          extra_args: list[Any] = (), **options: Any) -> bool:
    try:
        celery.send_task(task, args=[str(row_id), *extra_args], **options)
    except Exception as exc:  # kombu raises several unrelated types for a dead broker
        log.warning("event=enqueue_failed task=%s %s error=%r", task, names, exc)
        return False
    return True
