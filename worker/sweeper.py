"""The periodic sweeper: nothing the API accepted may be lost, nothing left `running`.

Redis here keeps nothing on disk, so a restart drops every queued message; the database
still has the rows. The sweeper re-sends queued jobs that were never sent or were sent long
ago, and settles `running` jobs whose run can no longer finish (its worker died). It also
sends webhook deliveries that are due (long retry waits live in the database, not in the
broker) or whose message was lost, and frees deliveries whose sender died mid-attempt.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from celery import Celery
from sqlalchemy import or_, select, update

from shared import batches, fairshare, heartbeats, lifecycle
from shared.catalogs import needs_embedding
from shared.db import Database
from shared.dispatch import send_catalog_embedding, send_delivery, send_job
from shared.lifecycle import LostRun
from shared.models import Catalog, CatalogItem, Job, WebhookDelivery, utcnow
from shared.queues import CPU_QUEUE, GPU_QUEUE, JOB_QUEUES, TRAINING_QUEUE
from shared.settings import Settings
from shared.status import DeliveryStatus, JobStatus
from worker import retention
from worker.recommendation.retrain import submit_due_trainings

log = logging.getLogger("vitrine.sweeper")

BATCH = 500


@dataclass
class SweepReport:
    resent_queued: int = 0
    resent_stale: int = 0
    failed_lost: int = 0
    send_failures: int = 0
    left_in_backlog: int = 0
    catalogs_to_embed: int = 0
    webhooks_sent: int = 0
    webhooks_released: int = 0
    jobs_purged: int = 0
    deliveries_purged: int = 0
    idempotency_keys_expired: int = 0
    batches_finished: int = 0
    trainings_submitted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(
    db: Database, settings: Settings, celery: Celery, now: datetime | None = None
) -> SweepReport:
    """One pass; safe to run concurrently with itself (duplicates are skipped by workers)."""
    now = now or utcnow()
    report = SweepReport()
    _resend_queued(db, settings, celery, now, report)
    _settle_orphaned_running(db, settings, celery, now, report)
    _settle_stale_running(db, settings, celery, now, report)
    _resend_catalog_embedding(db, settings, celery, now, report)
    _release_stuck_deliveries(db, settings, now, report)
    _send_due_deliveries(db, settings, celery, now, report)
    for name, count in retention.purge(db, settings, now).as_dict().items():
        setattr(report, name, count)
    with db.session() as session:
        report.batches_finished = batches.finish_stragglers(session)
    report.trainings_submitted = submit_due_trainings(db, settings, celery, now)
    if any(v for k, v in report.as_dict().items() if k not in {"left_in_backlog"}):
        log.info("event=sweep %s", " ".join(f"{k}={v}" for k, v in report.as_dict().items()))
    return report


def _queue_depths(celery: Celery) -> dict[str, int]:
    """Messages waiting per queue (all priority levels), or {} if the broker is down."""
    depths = {}
    try:
        with celery.connection_for_write() as connection:
            channel = connection.default_channel
            for queue in (CPU_QUEUE, GPU_QUEUE, TRAINING_QUEUE):
                # Not passive: a queue Redis has forgotten (restart) is simply empty.
                depths[queue] = channel.queue_declare(queue=queue).message_count
    except Exception as exc:
        log.warning("event=queue_depth_unknown error=%r", exc)
    return depths


def _resend_queued(db, settings, celery, now, report: SweepReport) -> None:
    # Never sent (held for fair share, or the broker was down): released in turn.
    def refused() -> None:
        report.send_failures += 1

    for queue in JOB_QUEUES:
        report.resent_queued += fairshare.release(db, celery, settings, queue,
                                                  on_send_failure=refused)
    cutoff = now - timedelta(seconds=settings.requeue_after_s)
    # A job sent long ago whose queue still holds messages is most likely waiting behind a
    # backlog, not lost: re-sending it would only pile duplicates onto that backlog. Once
    # the queue drains (or after a Redis restart left it empty) it is re-sent.
    depths = _queue_depths(celery)
    with db.session() as session:
        rows = session.execute(
            select(Job.id, Job.type, Job.priority, Job.enqueued_at)
            .where(Job.status == JobStatus.QUEUED.value, Job.enqueued_at < cutoff)
            .order_by(Job.created_at)
            .limit(BATCH)
        ).all()
    for job_id, job_type, priority, _enqueued_at in rows:
        queue = settings.routes.get(job_type)
        if queue is None:
            log.warning("event=unrouted_job job_id=%s type=%s", job_id, job_type)
            continue
        if depths.get(queue, 0) > 0:
            report.left_in_backlog += 1
            continue
        if not send_job(celery, settings, job_id=job_id, job_type=job_type, priority=priority):
            report.send_failures += 1
            return  # the broker is down; the next sweep tries again
        with db.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(enqueued_at=now))
        report.resent_queued += 1


def _settle_orphaned_running(db, settings, celery, now, report: SweepReport) -> None:
    """`running` jobs whose worker process stopped its heartbeats: dead, whatever the limit."""
    with db.session() as session:
        orphans = heartbeats.orphaned_runs(session, settings, now, BATCH)
        heartbeats.forget_old(session, now)
    for job_id, job_type, priority, attempts, step in orphans:
        if job_type in settings.routes and not _settle_lost(
                db, settings, celery, report, job_id, job_type, priority, attempts, step):
            return


def _settle_lost(db, settings, celery, report: SweepReport, job_id, job_type, priority,
                 attempts, step: str | None = None) -> bool:
    """Fail a lost run out of attempts, or send it to be taken over; False: broker down."""
    with db.session() as session:
        settled = lifecycle.settle_lost_run(session, job_id, attempts=attempts,
                                            settings=settings)
    if settled is not LostRun.RETRY:
        report.failed_lost += settled is LostRun.FAILED
        return True
    # The delivered task (of the step the job is at) sees the dead run and takes it over.
    if send_job(celery, settings, job_id=job_id, job_type=job_type, priority=priority,
                step=step):
        report.resent_stale += 1
        return True
    report.send_failures += 1
    return False


def _settle_stale_running(db, settings, celery, now, report: SweepReport) -> None:
    shortest = min(
        [settings.stale_after_s(t) for t in settings.routes]
        + [settings.default_hard_time_limit_s + settings.stale_grace_s]
    )
    with db.session() as session:
        candidates = session.execute(
            select(Job.id, Job.type, Job.priority, Job.attempts, Job.started_at, Job.step,
                   Job.worker_host)
            .where(Job.status == JobStatus.RUNNING.value,
                   Job.started_at < now - timedelta(seconds=shortest))
            .limit(BATCH)
        ).all()
    depths: dict[str, int] | None = None
    for job_id, job_type, priority, attempts, started_at, step, worker_host in candidates:
        if not lifecycle.run_is_stale(started_at, job_type, settings, now):
            continue
        if job_type not in settings.routes:
            log.warning("event=unrouted_job job_id=%s type=%s", job_id, job_type)
            continue
        if step is not None and worker_host is None:
            # A later step handed over but never claimed: its message was lost, unless it
            # is still waiting behind a backlog on its queue.
            depths = _queue_depths(celery) if depths is None else depths
            if depths.get(settings.queue_for(job_type, step), 0) > 0:
                report.left_in_backlog += 1
                continue
            if not send_job(celery, settings, job_id=job_id, job_type=job_type,
                            priority=priority, step=step):
                report.send_failures += 1
                return
            report.resent_stale += 1
            continue
        if not _settle_lost(db, settings, celery, report, job_id, job_type, priority,
                            attempts, step):
            return


def _resend_catalog_embedding(db, settings, celery, now, report: SweepReport) -> None:
    """Catalog items still unembedded long after they changed: their task was lost."""
    cutoff = now - timedelta(seconds=settings.requeue_after_s)
    with db.session() as session:
        catalog_ids = session.scalars(
            select(CatalogItem.catalog_id).where(
                needs_embedding(), CatalogItem.updated_at < cutoff,
                # A live chain of chunks is on it: another message would only wait in line.
                ~CatalogItem.catalog_id.in_(select(Catalog.id).where(
                    Catalog.embedding_lease_until >= now)),
            ).distinct().limit(50)
        ).all()
    for catalog_id in catalog_ids:
        if not send_catalog_embedding(celery, catalog_id):
            report.send_failures += 1
            return
        report.catalogs_to_embed += 1


def _release_stuck_deliveries(db, settings, now, report: SweepReport) -> None:
    """A delivery `sending` for far longer than one attempt may take lost its sender."""
    cutoff = now - timedelta(seconds=settings.webhook_timeout_s * 2 + 30)
    with db.session() as session:
        report.webhooks_released = session.execute(lifecycle.delivery_update(
            WebhookDelivery.sending_since < cutoff,
            from_statuses=[DeliveryStatus.SENDING], to=DeliveryStatus.PENDING,
            sending_since=None, next_attempt_at=now, dispatched_for=None,
        )).rowcount


def _send_due_deliveries(db, settings, celery, now, report: SweepReport) -> None:
    """Due deliveries with no message on its way: never sent, or sent and lost."""
    lost_before = now - timedelta(seconds=settings.requeue_after_s)
    with db.session() as session:
        due = session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING.value,
                   WebhookDelivery.next_attempt_at <= now,
                   or_(WebhookDelivery.dispatched_for.is_(None),
                       WebhookDelivery.dispatched_for < lost_before))
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(BATCH)
        ).all()
    for delivery_id in due:
        if not send_delivery(celery, delivery_id):
            report.send_failures += 1
            return
        with db.session() as session:
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                            .values(dispatched_for=now))
        report.webhooks_sent += 1
