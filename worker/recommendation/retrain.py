"""Retraining by event volume: when a catalog has gathered VITRINE_RETRAIN_AFTER_EVENTS new
events since its newest model was trained (or since it began, without one), the sweeper
submits a `train_recommender` job for it, as the operator would.

At most one such job per catalog is queued or running at a time; the idempotency key names
the event count, so two sweeps at once create one job, not two.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shared.db import Database
from shared.dispatch import send_job
from shared.models import Catalog, CatalogEvent, Job, RecommenderModel
from shared.settings import Settings
from shared.status import JobStatus

log = logging.getLogger("vitrine.retrain")

JOB_TYPE = "train_recommender"
EVENTS_KEY = "events_at_training"  # in RecommenderModel.metrics


def catalogs_due(db: Database, threshold: int) -> list[tuple[uuid.UUID, uuid.UUID, str, int]]:
    """(catalog id, tenant id, name, events) of catalogs with `threshold` new events."""
    with db.session() as session:
        counts = session.execute(
            select(CatalogEvent.catalog_id, func.count()).group_by(CatalogEvent.catalog_id)
            .having(func.count() >= threshold)).all()
        due = []
        for catalog_id, events in counts:
            catalog = session.get(Catalog, catalog_id)
            trained = 0
            if catalog.recommender_version:
                metrics = session.scalar(select(RecommenderModel.metrics).where(
                    RecommenderModel.catalog_id == catalog_id,
                    RecommenderModel.version == catalog.recommender_version))
                trained = int((metrics or {}).get(EVENTS_KEY, 0))
            if events - trained >= threshold and not _training_pending(session, catalog):
                due.append((catalog.id, catalog.tenant_id, catalog.name, events))
    return due


def _training_pending(session, catalog: Catalog) -> bool:
    inputs = session.scalars(select(Job.input).where(
        Job.tenant_id == catalog.tenant_id, Job.type == JOB_TYPE,
        Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])))
    return any(job_input.get("catalog_id") == catalog.name for job_input in inputs)


def submit_due_trainings(db: Database, settings: Settings, celery: Celery,
                         now: datetime) -> int:
    """Create and send a training job for every catalog due; returns how many were sent."""
    if settings.retrain_after_events <= 0 or JOB_TYPE not in settings.job_types:
        return 0
    sent = 0
    for catalog_id, tenant_id, name, events in catalogs_due(db, settings.retrain_after_events):
        job_id = uuid.uuid4()
        try:
            with db.session() as session:
                session.add(Job(id=job_id, tenant_id=tenant_id, type=JOB_TYPE,
                                status=JobStatus.QUEUED.value, priority=5,
                                input={"catalog_id": name},
                                idempotency_key=f"retrain:{catalog_id.hex}:{events}",
                                attempts=0, created_at=now, enqueued_at=now))
        except IntegrityError:  # another sweep created it
            continue
        log.info("event=retrain_submitted catalog=%s job_id=%s events=%d", catalog_id,
                 job_id, events)
        sent += send_job(celery, settings, job_id=job_id, job_type=JOB_TYPE, priority=5)
    return sent
