"""Sending a committed job to its queue; used by the API and by the sweeper."""

from __future__ import annotations

import logging
import uuid

from celery import Celery

from shared.queues import broker_priority, task_name_for
from shared.settings import Settings

log = logging.getLogger(__name__)


def send_job(
    celery: Celery, settings: Settings, *, job_id: uuid.UUID, job_type: str, priority: int
) -> bool:
    """Publish the job's id to its queue. False when the broker could not take it.

    Callers commit the job row first (the row is the record); a job whose send failed is
    picked up by the sweeper, so a False here never loses the job.
    """
    queue = settings.queue_for(job_type)  # a missing route is a settings error, not the broker's
    try:
        celery.send_task(
            task_name_for(job_type),
            args=[str(job_id)],
            queue=queue,
            priority=broker_priority(priority),
        )
    except Exception as exc:  # kombu raises several unrelated types for a dead broker
        log.warning("event=enqueue_failed job_id=%s error=%r", job_id, exc)
        return False
    return True
