"""Per-tenant fair share: a DB-side release with a per-tenant in-flight cap per queue.

Redis serves a queue in priority order, first in first out within a priority, so one
tenant's 2,000 jobs would all run before another tenant's next one. Instead, a tenant has at
most VITRINE_TENANT_IN_FLIGHT[queue] jobs *in flight* on a queue (sent to the broker or
running); its other jobs stay `queued` in the database with `enqueued_at` NULL ("held").
The cap is the setting, or the number of live worker processes on the queue when that is
larger, so a tenant alone still keeps every process busy. Whenever a job ends, its worker
releases held jobs of every tenant that is under its cap
(highest priority, then oldest, first), and the sweeper does the same each pass as a safety
net (a worker that died releases nothing). A new tenant's job is therefore sent at once and
waits behind at most the caps of the tenants ahead of it, not behind their backlogs.

Nothing accepted is lost: a held job is an ordinary `queued` row that every release and
every sweep looks at. The cap is checked in the same UPDATE that marks a job sent, so it
holds under concurrent releases up to the few jobs that race within one statement.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from itertools import zip_longest

from celery import Celery
from sqlalchemy import Integer, and_, bindparam, case, func, insert, null, or_, select, update
from sqlalchemy.orm import Session, aliased

from shared.db import Database
from shared.dispatch import send_job
from shared.heartbeats import live_workers
from shared.models import Job, utcnow
from shared.settings import Settings
from shared.status import JobStatus

log = logging.getLogger("vitrine.fairshare")

QUEUED, RUNNING = JobStatus.QUEUED.value, JobStatus.RUNNING.value


def lane_types(settings: Settings, queue: str) -> list[str]:
    """The job types that run on `queue`."""
    return sorted(t for t, q in settings.routes.items() if q == queue)


@dataclass(frozen=True)
class Lane:
    """What runs on a queue: job types whose first step runs there, and (type, step) pairs
    of later steps that do. Hashable, so statements built for a lane can be kept."""

    queue: str
    types: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]


def lane(settings: Settings, queue: str) -> Lane:
    return Lane(queue, tuple(lane_types(settings, queue)),
                tuple((t.name, step.name) for t in settings.job_types.values()
                      for step in t.steps if step.queue == queue))


def on_lane(settings: Settings, queue: str, job=Job):
    """SQL: the job's current step runs on `queue` (its first step on its type's queue, a
    later step of a multi-step type on that step's queue), so a personalised job counts
    against its tenant's cpu cap while it ranks and against the gpu cap while it writes."""
    return _on(lane(settings, queue), job)


def _on(shape: Lane, job=Job):
    first = and_(job.type.in_(shape.types), job.step.is_(None))
    return or_(first, *(and_(job.type == name, job.step == step) for name, step in shape.steps))


def in_flight_condition(job=Job):
    """A job on the broker or running: what counts against a tenant's cap."""
    return or_(job.status == RUNNING,
               and_(job.status == QUEUED, job.enqueued_at.is_not(None)))


def cap_for(session: Session, settings: Settings, queue: str) -> int | None:
    """A tenant's in-flight cap on `queue`: the setting, or one job per live worker process
    of the queue if there are more (a lone tenant keeps every process busy); None: no cap."""
    configured = settings.tenant_in_flight.get(queue)
    if configured is None:
        return None
    return max(configured, live_workers(session, settings).get(queue, 0))


def _under_cap(shape: Lane, with_priority: bool):
    """SQL: the tenant (:of_tenant) has fewer than :tenant_cap jobs in flight on the lane;
    with :at_priority, or fewer than twice the cap while one of its sent jobs waiting on the broker
    has a lower priority (the broker then runs this one first: no inversion of the tenant's
    own priorities behind the cap)."""
    tenant_id, cap = bindparam("of_tenant"), bindparam("tenant_cap", type_=Integer)

    def count_of(state):
        other = aliased(Job)
        return (select(func.count()).select_from(other)
                .where(other.tenant_id == tenant_id, *state(other), _on(shape, other))
                .scalar_subquery())

    # In flight = running + sent and waiting, counted apart: each is a short range of
    # ix_jobs_tenant_status_enqueued, where one OR read every held row of the tenant.
    count = (count_of(lambda job: (job.status == RUNNING,))
             + count_of(lambda job: (job.status == QUEUED, job.enqueued_at.is_not(None))))
    if not with_priority:
        return count < cap
    lower = aliased(Job)
    outranks = (select(lower.id).where(
        lower.tenant_id == tenant_id, lower.type.in_(shape.types), lower.status == QUEUED,
        lower.enqueued_at.is_not(None), lower.priority < bindparam("at_priority")).exists())
    return or_(count < cap, and_(count < 2 * cap, outranks))


@functools.lru_cache(maxsize=256)
def _mark_sent_statement(shape: Lane, capped: bool, with_priority: bool):
    """The UPDATE that marks a held job sent, built once per lane: building it (aliases and
    all) cost more CPU than running it, on every submission."""
    conditions = [Job.id == bindparam("held_job"), Job.status == QUEUED,
                  Job.enqueued_at.is_(None)]
    if capped:
        conditions.append(_under_cap(shape, with_priority))
    return (update(Job).where(*conditions)
            .values(enqueued_at=bindparam("sent_now", type_=Job.enqueued_at.type))
            .execution_options(synchronize_session=False))


def _mark_sent(session: Session, settings: Settings, job_id: uuid.UUID, tenant_id,
               queue: str, cap: int | None, priority: int | None = None) -> bool:
    """Mark a held job sent if the tenant is under its cap; True when this call did it."""
    statement = _mark_sent_statement(lane(settings, queue), cap is not None,
                                     priority is not None)
    values = {"held_job": job_id, "sent_now": utcnow()}
    if cap is not None:
        values |= {"of_tenant": tenant_id, "tenant_cap": cap}
        if priority is not None:
            values["at_priority"] = priority
    # On the connection: the ORM's bulk-update path rebuilt the statement's cache key on
    # every call, the costliest part of a submission's CPU (synchronize_session is off anyway).
    return session.connection().execute(statement, values).rowcount == 1


def _send_or_unmark(db: Database, celery: Celery, settings: Settings, job_id: uuid.UUID,
                    job_type: str, priority: int) -> bool:
    if send_job(celery, settings, job_id=job_id, job_type=job_type, priority=priority):
        return True
    # The broker is down: held again, so the next release or sweep sends it.
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(enqueued_at=None))
    return False


@functools.lru_cache(maxsize=256)
def _insert_statement(shape: Lane, capped: bool):
    """The INSERT of a new job that marks it sent in the same statement when its tenant is
    under its cap, returning `enqueued_at` (NULL: held). On SQLite an insert holds the file's
    write lock until commit, and every other API process waits for it: a separate UPDATE to
    claim the job doubled that wait."""
    sent_now = bindparam("sent_now", type_=Job.enqueued_at.type)
    enqueued_at = case((_under_cap(shape, True), sent_now), else_=null()) if capped else sent_now
    return insert(Job).values(enqueued_at=enqueued_at).returning(Job.enqueued_at)


# What a new job's row holds; the other columns start NULL (or at their defaults).
_NEW_JOB_COLUMNS = ("id", "tenant_id", "type", "status", "priority", "input", "webhook",
                    "idempotency_key", "request_hash", "attempts", "created_at", "request_id")


def insert_claimed(session: Session, settings: Settings, job: Job, cap: int | None) -> bool:
    """Store a new job (a transient `Job`, never added to the session) in the caller's
    transaction, marked sent if its tenant is under `cap` (`cap_for`'s answer, which the API
    reads once a second). True: the caller sends it once committed (`send_claimed`); False:
    it is held for a later release. A duplicate idempotency key raises IntegrityError."""
    values = {name: getattr(job, name) for name in _NEW_JOB_COLUMNS} | {"sent_now": utcnow()}
    if cap is not None:
        values |= {"of_tenant": job.tenant_id, "tenant_cap": cap, "at_priority": job.priority}
    statement = _insert_statement(lane(settings, settings.queue_for(job.type)), cap is not None)
    # On the connection, a Core statement: the ORM's unit of work cost more than the insert.
    job.enqueued_at = session.connection().execute(statement, values).scalar_one()
    return job.enqueued_at is not None


def send_claimed(db: Database, celery: Celery, settings: Settings, job: Job) -> bool:
    """Send a job `insert_claimed` marked, after its commit; False (and held again for the
    next release or sweep) when the broker is down."""
    return _send_or_unmark(db, celery, settings, job.id, job.type, job.priority)


def release(db: Database, celery: Celery, settings: Settings, queue: str,
            max_jobs: int = 500, on_send_failure: Callable[[], None] | None = None) -> int:
    """Send held jobs on `queue` of every tenant under its cap; returns how many were sent
    (`on_send_failure` is called when the broker refused one: the rest wait for later)."""
    types = lane_types(settings, queue)
    if not types:
        return 0
    with db.session() as session:
        cap = cap_for(session, settings, queue)
        held = (select(Job.tenant_id).where(Job.status == QUEUED, Job.enqueued_at.is_(None),
                                            Job.type.in_(types))
                .group_by(Job.tenant_id).order_by(func.min(Job.created_at)))
        tenants = list(session.scalars(held))
        if not tenants:
            return 0
        busy = dict(session.execute(
            select(Job.tenant_id, func.count()).where(
                Job.tenant_id.in_(tenants), on_lane(settings, queue), in_flight_condition())
            .group_by(Job.tenant_id)).all())
        per_tenant: list[list] = []
        for tenant_id in tenants:
            free = max_jobs if cap is None else cap - busy.get(tenant_id, 0)
            if free <= 0:
                continue
            per_tenant.append(session.execute(
                select(Job.id, Job.tenant_id, Job.type, Job.priority)
                .where(Job.tenant_id == tenant_id, Job.status == QUEUED,
                       Job.enqueued_at.is_(None), Job.type.in_(types))
                .order_by(Job.priority.desc(), Job.created_at, Job.id).limit(free)).all())
    # Round-robin: each tenant's first job goes on the broker before anyone's second.
    picks = [job for turn in zip_longest(*per_tenant) for job in turn if job is not None]
    sent = 0
    for job_id, tenant_id, job_type, priority in picks[:max_jobs]:
        with db.session() as session:
            if not _mark_sent(session, settings, job_id, tenant_id, queue, cap, priority):
                continue  # another releaser sent it, or the tenant reached its cap meanwhile
        if not _send_or_unmark(db, celery, settings, job_id, job_type, priority):
            if on_send_failure is not None:
                on_send_failure()
            break
        sent += 1
    if sent:
        log.info("event=jobs_released queue=%s jobs=%d tenants=%d", queue, sent, len(tenants))
    return sent
