"""Job metrics a worker records once a run settles: outcome, queue wait, run time."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from shared import metrics
from shared.db import Database
from shared.models import Job

log = logging.getLogger("vitrine.metrics")


def record_finished(db: Database, job_id: str) -> None:
    """Count the job's terminal status and observe its timings (from the row, the record)."""
    try:
        with db.session() as session:
            row = session.execute(select(
                Job.type, Job.status, Job.error_code, Job.created_at, Job.started_at,
                Job.finished_at).where(Job.id == uuid.UUID(job_id))).one_or_none()
    except Exception as exc:  # metrics never fail a job
        log.warning("event=job_metrics_unrecorded job_id=%s error=%r", job_id, exc)
        return
    if row is None or row.finished_at is None:
        return
    metrics.jobs_finished.labels(row.type, row.status, row.error_code or "").inc()
    metrics.job_latency.labels(row.type).observe(
        (row.finished_at - row.created_at).total_seconds())
    if row.started_at is not None:
        metrics.job_queue_wait.labels(row.type).observe(
            (row.started_at - row.created_at).total_seconds())
        metrics.job_run.labels(row.type).observe(
            (row.finished_at - row.started_at).total_seconds())
