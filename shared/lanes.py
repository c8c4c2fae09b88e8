"""Where a job stands in its lane (queue): jobs ahead of it, the lane's recent throughput and
the start that follows from them, and each lane's depth, running jobs and workers.

Estimates, read from the database (the record), not from the broker: a released job is
behind the released jobs of higher priority, or of its priority and older; a held job
(shared.fairshare) is behind every released job, its tenant's held jobs ahead of it, and,
as tenants take turns, as many of each other tenant's held jobs plus one.

A poll (GET /v1/jobs/{id}) counts them: one grouped count over the lane's queued jobs.
A submission's answer must not: counting a tenant's backlog on every POST made a
submission's cost grow with it (38 ms behind 100,000 held jobs on SQLite). A new job is
the newest of its tenant and priority, so its place follows from a snapshot of the lane
per tenant and priority (`LaneSnapshot`, which the API keeps a second): every job the
snapshot holds of its tenant at its priority or above is ahead of it. The answer may miss
up to a second of other submissions; the next poll counts them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from shared.fairshare import cap_for, lane_types
from shared.heartbeats import live_workers
from shared.models import Job, utcnow
from shared.schemas.jobs import iso
from shared.settings import Settings
from shared.status import JobStatus

QUEUED, RUNNING = JobStatus.QUEUED.value, JobStatus.RUNNING.value
RECENT_FINISHES = 50
RECENT_WINDOW = timedelta(minutes=10)


@functools.lru_cache(maxsize=64)
def _statements(types: tuple[str, ...]) -> dict[str, Any]:
    """The position and throughput queries of one lane, built once with bound parameters:
    building them cost more CPU than running them, on every submission and GET."""
    job_id, priority = bindparam("this_job"), bindparam("this_priority")
    created_at = bindparam("this_created_at")
    ahead_in_priority = or_(Job.priority > priority,
                            and_(Job.priority == priority, Job.created_at < created_at))
    released = [Job.status == QUEUED, Job.type.in_(types), Job.enqueued_at.is_not(None)]
    return {
        # From ix_jobs_lane_released: the released jobs, not the held ones around them.
        "released_ahead": select(func.count()).where(*released, Job.id != job_id,
                                                     ahead_in_priority),
        # Per tenant with queued jobs on the lane: its released jobs, its held jobs, and its
        # held jobs ahead of this one; one statement where three counts were three.
        "per_tenant": select(
            Job.tenant_id,
            func.count().filter(Job.enqueued_at.is_not(None)),
            func.count().filter(Job.enqueued_at.is_(None)),
            func.count().filter(Job.enqueued_at.is_(None), ahead_in_priority),
        ).where(Job.status == QUEUED, Job.type.in_(types))
        .group_by(Job.tenant_id),
        # The snapshot: per tenant and priority, the released jobs, the held ones and the
        # newest held one's submission time.
        "snapshot": select(
            Job.tenant_id, Job.priority,
            func.count().filter(Job.enqueued_at.is_not(None)),
            func.count().filter(Job.enqueued_at.is_(None)),
            func.max(Job.created_at).filter(Job.enqueued_at.is_(None)),
        ).where(Job.status == QUEUED, Job.type.in_(types))
        .group_by(Job.tenant_id, Job.priority),
        # Jobs a worker ran (a queued job canceled before it started says nothing of the rate).
        "finishes": select(Job.finished_at).where(
            Job.type.in_(types), Job.started_at.is_not(None),
            Job.finished_at >= bindparam("since", type_=Job.finished_at.type))
        .order_by(Job.finished_at.desc()).limit(RECENT_FINISHES),
    }


def throughput(session: Session, settings: Settings, queue: str,
               now: datetime | None = None) -> float | None:
    """Jobs per second the lane ran lately (its last 50 finishes in 10 minutes), or
    None when it finished fewer than two."""
    now = now or utcnow()
    finishes = session.connection().scalars(
        _statements(tuple(lane_types(settings, queue)))["finishes"],
        {"since": now - RECENT_WINDOW}).all()
    if len(finishes) < 2:
        return None
    span = (finishes[0] - finishes[-1]).total_seconds()
    return (len(finishes) - 1) / max(span, 1e-3)


@dataclass(frozen=True)
class HeldSpan:
    """One tenant's held jobs of one priority on a lane: how many, and when the newest came."""

    count: int
    newest: datetime


@dataclass(frozen=True)
class LaneSnapshot:
    """A lane's queued jobs at one moment: the released ones, the held ones per tenant and
    priority."""

    released: int = 0
    held: dict[uuid.UUID, dict[int, HeldSpan]] = field(default_factory=dict)

    def new_jobs_place(self, job: Job) -> int | None:
        """The place of a job submitted after every held job the snapshot has of its tenant
        at its priority (or the newest of them, itself: a snapshot read in the request that
        submitted it): those and the ones of higher priorities are ahead of it. None for
        any other job (an older one, or a priority the snapshot never saw): only a count
        can tell. For POST /v1/jobs's answer: a submission is alone in its microsecond,
        where a batch's lines share one time."""
        spans = self.held.get(job.tenant_id, {})
        same = spans.get(job.priority)
        if same is None or job.created_at < same.newest:
            return None
        own_ahead = sum(span.count for priority, span in spans.items()
                        if priority > job.priority)
        own_ahead += same.count - (job.created_at == same.newest)
        return _place(self.released, own_ahead, (
            sum(span.count for span in others.values())
            for tenant_id, others in self.held.items() if tenant_id != job.tenant_id))


def lane_snapshot(session: Session, settings: Settings, queue: str) -> LaneSnapshot:
    """One statement over the lane's queued jobs (from the covering ix_jobs_lane_position)."""
    rows = session.connection().execute(
        _statements(tuple(lane_types(settings, queue)))["snapshot"])
    released, held_by_tenant = 0, {}
    for tenant_id, priority, tenant_released, held, newest in rows:
        released += tenant_released
        if held:
            held_by_tenant.setdefault(tenant_id, {})[priority] = HeldSpan(held, newest)
    return LaneSnapshot(released, held_by_tenant)


def queue_position(session: Session, settings: Settings, job: Job,
                   snapshot_of: Callable[[str], LaneSnapshot] | None = None) -> int | None:
    """Jobs of the lane that should start before this queued job (None once it started).
    With `snapshot_of(queue)` (a submission's answer), a new held job's place comes from
    the snapshot where it can (LaneSnapshot.new_jobs_place); otherwise it is counted."""
    if job.status != QUEUED:
        return None
    queue = settings.queue_for(job.type)
    if job.enqueued_at is None and snapshot_of is not None:
        place = snapshot_of(queue).new_jobs_place(job)
        if place is not None:
            return place
    statements = _statements(tuple(lane_types(settings, queue)))
    this = {"this_job": job.id, "this_priority": job.priority,
            "this_created_at": job.created_at}
    # Core statements on the session's connection: through the session, the ORM's execution
    # layer cost more CPU than the query (nothing is pending: callers flushed the job).
    connection = session.connection()
    if job.enqueued_at is not None:
        return connection.scalar(statements["released_ahead"], this)
    released, own_ahead, others = 0, 0, []
    for tenant_id, tenant_released, held, held_ahead in connection.execute(
            statements["per_tenant"], this):
        released += tenant_released
        if tenant_id == job.tenant_id:
            own_ahead = held_ahead
        elif held:
            others.append(held)
    return _place(released, own_ahead, others)


def _place(released: int, own_ahead: int, others_held: Iterable[int]) -> int:
    """The module's rule: every released job, the tenant's held jobs ahead, and as many of
    each other tenant's held jobs plus one (tenants take turns)."""
    return released + own_ahead + sum(min(count, own_ahead + 1) for count in others_held)


def estimated_start(job: Job, position: int | None, rate: float | None,
                    now: datetime | None = None) -> str | None:
    """When a job with `position` jobs ahead should start at the lane's rate: for the next
    job (position 0), its submission time (it is due; a later time means no worker is free);
    None while the rate is unknown."""
    if position is None or (position and not rate):
        return None
    if not position:
        return iso(job.created_at)
    return iso((now or utcnow()) + timedelta(seconds=position / rate))


def where_is(session: Session, settings: Settings, job: Job,
             rate_of: Callable[[str], float | None] | None = None,
             snapshot_of: Callable[[str], LaneSnapshot] | None = None) -> dict:
    """`queue_position` and `estimated_start_at` for the job view; `rate_of(queue)` stands
    in for `throughput` where a recent reading will do (the API's, once a second), and
    `snapshot_of(queue)` lets a submission's answer read a new job's place from one."""
    position = queue_position(session, settings, job, snapshot_of)
    queue = settings.queue_for(job.type)
    rate = None
    if position:
        rate = rate_of(queue) if rate_of else throughput(session, settings, queue)
    return {"queue_position": position,
            "estimated_start_at": estimated_start(job, position, rate)}


def lane_view(session: Session, settings: Settings, queue: str, tenant_id: uuid.UUID,
              workers: dict[str, int]) -> dict:
    """One queue: its depth, running jobs, workers and throughput; the tenant's share."""
    types = lane_types(settings, queue)

    def counts(*where) -> tuple[int, int, int]:
        row = session.execute(select(
            func.count().filter(Job.status == QUEUED, Job.enqueued_at.is_not(None)),
            func.count().filter(Job.status == QUEUED, Job.enqueued_at.is_(None)),
            func.count().filter(Job.status == RUNNING),
        ).where(Job.type.in_(types), Job.status.in_([QUEUED, RUNNING]), *where)).one()
        return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)

    released, held, running = counts()
    mine = counts(Job.tenant_id == tenant_id)
    rate = throughput(session, settings, queue)
    return {
        "queue": queue, "job_types": types,
        "depth": released + held, "running": running, "workers": workers.get(queue, 0),
        "throughput_per_min": round(rate * 60, 2) if rate else None,
        "tenant": {"queued": mine[0] + mine[1], "held": mine[1], "running": mine[2],
                   "in_flight_cap": cap_for(session, settings, queue)},
    }


def lanes_view(session: Session, settings: Settings, queues: list[str],
               tenant_id: uuid.UUID) -> list[dict]:
    workers = live_workers(session, settings)
    return [lane_view(session, settings, queue, tenant_id, workers) for queue in queues]
