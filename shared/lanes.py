"""Where a job stands in its lane (queue): jobs ahead of it, the lane's recent throughput and
the start that follows from them, and each lane's depth, running jobs and workers.

Estimates, read from the database (the record), not from the broker: a released job is
behind the released jobs of higher priority, or of its priority and older; a held job
(shared.fairshare) is behind every released job, its tenant's held jobs ahead of it, and,
as tenants take turns, as many of each other tenant's held jobs plus one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
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
    released = [Job.status == QUEUED, Job.enqueued_at.is_not(None), Job.type.in_(types),
                Job.id != job_id]
    return {
        "released_ahead": select(func.count()).where(*released, ahead_in_priority),
        # Per tenant with queued jobs on the lane: its released jobs, its held jobs, and its
        # held jobs ahead of this one; one statement where three counts were three.
        "per_tenant": select(
            Job.tenant_id,
            func.count().filter(Job.enqueued_at.is_not(None)),
            func.count().filter(Job.enqueued_at.is_(None)),
            func.count().filter(Job.enqueued_at.is_(None), ahead_in_priority),
        ).where(Job.status == QUEUED, Job.type.in_(types))
        .group_by(Job.tenant_id),
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


def queue_position(session: Session, settings: Settings, job: Job) -> int | None:
    """Jobs of the lane that should start before this queued job (None once it started)."""
    if job.status != QUEUED:
        return None
    statements = _statements(tuple(lane_types(settings, settings.queue_for(job.type))))
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
    return released + own_ahead + sum(min(count, own_ahead + 1) for count in others)


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
             rate_of: Callable[[str], float | None] | None = None) -> dict:
    """`queue_position` and `estimated_start_at` for the job view; `rate_of(queue)` stands in
    for `throughput` where a recent reading will do (the API's, once a second)."""
    position = queue_position(session, settings, job)
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
