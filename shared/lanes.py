"""Where a job stands in its lane (queue): jobs ahead of it, the lane's recent throughput and
the start that follows from them, and each lane's depth, running jobs and workers.

Estimates, read from the database (the record), not from the broker: a released job is
behind the released jobs of higher priority, or of its priority and older; a held job
(shared.fairshare) is behind every released job, its tenant's held jobs ahead of it, and,
as tenants take turns, as many of each other tenant's held jobs plus one.

Held jobs can number in the hundreds of thousands, and counting them row by row on every
submission and poll made a submission's cost grow with its lane's backlog. So a held job's
place uses a snapshot of the lane's held jobs per tenant and priority (`LaneSnapshot`, which
the API keeps a second): every other tenant's share comes from it, and so do the job's own
tenant's held jobs ahead of it when the job is the newest of its priority the snapshot saw,
or newer (a submission). For an older job they are counted row by row, up to COUNT_UP_TO;
past that, estimated from the snapshot. The released jobs, few (the tenants' in-flight
caps) and the most like to change, are counted on every poll, with the tenant's held jobs
submitted since the snapshot; a submission's answer takes the snapshot's, so that a held
submission's place runs no statement.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
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
# A tenant's held jobs ahead of an older one of its own are counted row by row up to this
# many (under a millisecond); past it, the snapshot's estimate (at least this many).
COUNT_UP_TO = 1000


@functools.lru_cache(maxsize=64)
def _statements(types: tuple[str, ...]) -> dict[str, Any]:
    """The position and throughput queries of one lane, built once with bound parameters:
    building them cost more CPU than running them, on every submission and GET."""
    job_id, priority = bindparam("this_job"), bindparam("this_priority")
    created_at = bindparam("this_created_at")
    ahead_in_priority = or_(Job.priority > priority,
                            and_(Job.priority == priority, Job.created_at < created_at))
    released = [Job.status == QUEUED, Job.type.in_(types), Job.enqueued_at.is_not(None)]
    # ahead_in_priority is strict: the job itself is never counted ahead of itself.
    own_held_ahead = [Job.status == QUEUED, Job.type.in_(types),
                      Job.tenant_id == bindparam("this_tenant"), Job.enqueued_at.is_(None),
                      ahead_in_priority]
    released_count = select(func.count()).where(*released).scalar_subquery()
    return {
        "released_ahead": select(func.count()).where(*released, Job.id != job_id,
                                                     ahead_in_priority),
        # Index ranges (ix_jobs_lane_released, ix_jobs_lane_position), the second short:
        # at most COUNT_UP_TO rows, or the tenant's submissions since the snapshot.
        "released_and_own_held_ahead": select(released_count, select(func.count()).select_from(
            select(Job.created_at).where(*own_held_ahead).limit(COUNT_UP_TO).subquery()
        ).scalar_subquery()),
        "released_and_own_held_since": select(released_count, select(func.count()).where(
            *own_held_ahead, Job.created_at > bindparam("since", type_=Job.created_at.type)
        ).scalar_subquery()),
        # The snapshot: per tenant and priority, the released jobs, the held ones and the
        # span of the held ones' submission times.
        "snapshot": select(
            Job.tenant_id, Job.priority,
            func.count().filter(Job.enqueued_at.is_not(None)),
            func.count().filter(Job.enqueued_at.is_(None)),
            func.min(Job.created_at).filter(Job.enqueued_at.is_(None)),
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
    """One tenant's held jobs of one priority on a lane: how many, first and last submitted."""

    count: int
    first: datetime
    last: datetime

    def ahead_of(self, created_at: datetime) -> int:
        """How many were submitted before `created_at`, assuming an even pace between the
        first and the last: exact at the ends, and for a flood; used past COUNT_UP_TO only."""
        if created_at > self.last:
            return self.count  # submitted after the snapshot: behind all of them
        if created_at <= self.first or self.count < 2:
            return 0
        elapsed = (created_at - self.first) / (self.last - self.first)
        return round((self.count - 1) * elapsed)


@dataclass
class LaneSnapshot:
    """A lane's queued jobs at one moment: the released ones, the held ones per tenant and
    priority."""

    taken_at: datetime
    released: int = 0
    held: dict[uuid.UUID, dict[int, HeldSpan]] = field(default_factory=dict)

    def own_held_ahead(self, job: Job) -> int:
        """Estimated: see HeldSpan.ahead_of."""
        spans = self.held.get(job.tenant_id, {})
        same = spans.get(job.priority)
        return (sum(span.count for priority, span in spans.items() if priority > job.priority)
                + (same.ahead_of(job.created_at) if same else 0))

    def saw_nothing_newer(self, job: Job) -> bool:
        """Whether the job is the newest held job of its tenant and priority the snapshot
        saw, or newer: then its held jobs ahead are the snapshot's, with no estimate."""
        same = self.held.get(job.tenant_id, {}).get(job.priority)
        return same is not None and job.created_at >= same.last

    def others_turns(self, tenant_id: uuid.UUID, own_ahead: int) -> int:
        """Other tenants' held jobs that start first: tenants take turns, so as many of each
        one's as this tenant has ahead, plus one."""
        return sum(min(sum(span.count for span in spans.values()), own_ahead + 1)
                   for other, spans in self.held.items() if other != tenant_id)


def lane_snapshot(session: Session, settings: Settings, queue: str) -> LaneSnapshot:
    """One statement over the lane's queued jobs (from the covering ix_jobs_lane_position)."""
    snapshot = LaneSnapshot(taken_at=utcnow())
    rows = session.connection().execute(
        _statements(tuple(lane_types(settings, queue)))["snapshot"])
    for tenant_id, priority, released, held, first, last in rows:
        snapshot.released += released
        if held:
            snapshot.held.setdefault(tenant_id, {})[priority] = HeldSpan(held, first, last)
    return snapshot


def queue_position(session: Session, settings: Settings, job: Job,
                   snapshot_of: Callable[[str], LaneSnapshot],
                   count_released: bool = True) -> int | None:
    """Jobs of the lane that should start before this queued job (None once it started);
    `snapshot_of(queue)`: a recent LaneSnapshot (see the module's notes). Without
    `count_released`, a new held job's place takes the snapshot's released jobs and runs no
    statement, missing its tenant's submissions since the snapshot (a second's at most): a
    submission's answer. A poll counts both."""
    if job.status != QUEUED:
        return None
    queue = settings.queue_for(job.type)
    statements = _statements(tuple(lane_types(settings, queue)))
    this = {"this_job": job.id, "this_priority": job.priority,
            "this_created_at": job.created_at, "this_tenant": job.tenant_id}
    # Core statements on the session's connection: through the session, the ORM's execution
    # layer cost more CPU than the query (nothing is pending: callers flushed the job).
    if job.enqueued_at is not None:
        return session.connection().scalar(statements["released_ahead"], this)
    snapshot = snapshot_of(queue)
    if snapshot.saw_nothing_newer(job):
        own_ahead = snapshot.own_held_ahead(job)
        if count_released:  # and the tenant's held jobs ahead that came since the snapshot
            released, since = session.connection().execute(
                statements["released_and_own_held_since"],
                this | {"since": snapshot.taken_at}).one()
            own_ahead += since
        else:
            released = snapshot.released
    else:
        released, own_ahead = session.connection().execute(
            statements["released_and_own_held_ahead"], this).one()
        if own_ahead >= COUNT_UP_TO:
            own_ahead = max(own_ahead, snapshot.own_held_ahead(job))
    return released + own_ahead + snapshot.others_turns(job.tenant_id, own_ahead)


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
             snapshot_of: Callable[[str], LaneSnapshot] | None = None,
             count_released: bool = True) -> dict:
    """`queue_position` and `estimated_start_at` for the job view; `rate_of(queue)` and
    `snapshot_of(queue)` stand in for `throughput` and `lane_snapshot` where a recent
    reading will do (the API's, once a second)."""
    position = queue_position(
        session, settings, job,
        snapshot_of or (lambda queue: lane_snapshot(session, settings, queue)),
        count_released)
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
