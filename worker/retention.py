"""Retention: what the sweeper deletes once it is old enough, a small batch at a time.

- Finished jobs (input and result, their deliveries and attempts) `job_retention_days` after
  they finished: the tenant's setting, else VITRINE_JOB_RETENTION_DAYS.
- Finished webhook deliveries (and attempts) `delivery_retention_days` after they finished.
- Idempotency keys after VITRINE_IDEMPOTENCY_TTL_S: a job's key is cleared (the job stays),
  other keys' rows are deleted.

Every statement touches at most VITRINE_PURGE_BATCH rows, so locks stay short, and a pass
stops after MAX_BATCHES of each kind; the next sweep goes on where this one stopped.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.sql import Select

from shared.db import Database
from shared.models import IdempotencyKey, Job, TenantSettings, WebhookAttempt, WebhookDelivery
from shared.settings import Settings
from shared.status import JobStatus

log = logging.getLogger("vitrine.retention")

MAX_BATCHES = 10
TERMINAL = [s.value for s in JobStatus if s.is_terminal]


@dataclass
class RetentionReport:
    jobs_purged: int = 0
    deliveries_purged: int = 0
    idempotency_keys_expired: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge(db: Database, settings: Settings, now: datetime) -> RetentionReport:
    """One pass over every kind of expired data."""
    report = RetentionReport()
    for tenant_id, days in _policies(db, TenantSettings.job_retention_days,
                                     settings.job_retention_days):
        report.jobs_purged += _purge_jobs(db, settings, tenant_id, now - timedelta(days=days))
    for tenant_id, days in _policies(db, TenantSettings.delivery_retention_days,
                                     settings.delivery_retention_days):
        report.deliveries_purged += _purge_deliveries(db, settings, tenant_id,
                                                      now - timedelta(days=days))
    report.idempotency_keys_expired = _expire_keys(
        db, settings, now - timedelta(seconds=settings.idempotency_ttl_s))
    if any(report.as_dict().values()):
        log.info("event=retention_purge %s",
                 " ".join(f"{k}={v}" for k, v in report.as_dict().items()))
    return report


def _policies(db: Database, column, default_days: int) -> list[tuple[object, int]]:
    """(tenant id, days) for tenants with their own setting, then (None, default) for all
    the others."""
    with db.session() as session:
        own = session.execute(select(TenantSettings.tenant_id, column)
                              .where(column.is_not(None))).all()
    return [(tenant_id, days) for tenant_id, days in own] + [(None, default_days)]


def _scoped(query: Select, tenant_column, tenant_id, column) -> Select:
    if tenant_id is not None:
        return query.where(tenant_column == tenant_id)
    custom = select(TenantSettings.tenant_id).where(column.is_not(None))
    return query.where(tenant_column.not_in(custom))


def _batches(db: Database, settings: Settings, pick: Select, remove) -> int:
    """Run `remove(session, ids)` on successive batches of the ids `pick` selects."""
    total = 0
    for _ in range(MAX_BATCHES):
        with db.session() as session:
            ids = list(session.scalars(pick.limit(settings.purge_batch)))
            if not ids:
                break
            remove(session, ids)
        total += len(ids)
        if len(ids) < settings.purge_batch:
            break
    return total


def _delete_deliveries(session, delivery_ids: list[uuid.UUID]) -> None:
    # Explicit rather than ON DELETE CASCADE: the same on every backend and connection.
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids)))


def _purge_jobs(db: Database, settings: Settings, tenant_id, before: datetime) -> int:
    pick = _scoped(select(Job.id).where(Job.status.in_(TERMINAL), Job.finished_at < before),
                   Job.tenant_id, tenant_id, TenantSettings.job_retention_days)

    def remove(session, job_ids):
        deliveries = list(session.scalars(select(WebhookDelivery.id)
                                          .where(WebhookDelivery.job_id.in_(job_ids))))
        if deliveries:
            _delete_deliveries(session, deliveries)
        session.execute(delete(Job).where(Job.id.in_(job_ids)))

    return _batches(db, settings, pick, remove)


def _purge_deliveries(db: Database, settings: Settings, tenant_id, before: datetime) -> int:
    pick = _scoped(select(WebhookDelivery.id).where(WebhookDelivery.finished_at < before),
                   WebhookDelivery.tenant_id, tenant_id,
                   TenantSettings.delivery_retention_days)
    return _batches(db, settings, pick, _delete_deliveries)


def _expire_keys(db: Database, settings: Settings, before: datetime) -> int:
    jobs = select(Job.id).where(Job.idempotency_key.is_not(None), Job.created_at < before)
    expired = _batches(db, settings, jobs, lambda session, ids: session.execute(
        update(Job).where(Job.id.in_(ids)).values(idempotency_key=None, request_hash=None)))
    keys = select(IdempotencyKey.key, IdempotencyKey.tenant_id, IdempotencyKey.scope).where(
        IdempotencyKey.created_at < before)
    for _ in range(MAX_BATCHES):
        with db.session() as session:
            rows = session.execute(keys.limit(settings.purge_batch)).all()
            for key, tenant_id, scope in rows:
                session.execute(delete(IdempotencyKey).where(
                    IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.scope == scope,
                    IdempotencyKey.key == key))
        expired += len(rows)
        if len(rows) < settings.purge_batch:
            break
    return expired
