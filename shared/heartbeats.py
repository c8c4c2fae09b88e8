"""Worker heartbeats in the database: who is alive, and which `running` jobs lost their worker.

Each worker process that runs jobs records (host, pid, queues, seen_at) every
VITRINE_HEARTBEAT_INTERVAL_S. A `running` job names the process that claimed it; when that
process has not been seen for VITRINE_WORKER_LOST_AFTER_S it is dead (killed, its host gone)
and the sweeper re-runs or fails the job within a sweep, instead of waiting out the job's
hard time limit plus grace. A job claimed by a process that never wrote a heartbeat (an
older worker) still falls back to the time-limit rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.models import Job, WorkerHeartbeat, utcnow
from shared.settings import Settings
from shared.status import JobStatus

# Rows of processes gone this long are deleted (they only matter while a job names them).
FORGET_AFTER = timedelta(days=1)


def beat(session: Session, host: str, pid: int, queues: str, now: datetime | None = None
         ) -> None:
    """Record that (host, pid) is alive now."""
    now = now or utcnow()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(WorkerHeartbeat).values(
        host=host, pid=pid, queues=queues, started_at=now, seen_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=["host", "pid"], set_={"seen_at": now, "queues": queues}))


def forget_old(session: Session, now: datetime | None = None) -> int:
    return session.execute(delete(WorkerHeartbeat).where(
        WorkerHeartbeat.seen_at < (now or utcnow()) - FORGET_AFTER)).rowcount


def went_silent(session: Session, host: str | None, pid: int | None, settings: Settings,
                now: datetime | None = None) -> bool:
    """True when (host, pid) wrote heartbeats and has been silent past the limit."""
    if host is None or pid is None:
        return False
    seen = session.scalar(select(WorkerHeartbeat.seen_at).where(
        WorkerHeartbeat.host == host, WorkerHeartbeat.pid == pid))
    return seen is not None and seen < _cutoff(settings, now)


def _cutoff(settings: Settings, now: datetime | None) -> datetime:
    return (now or utcnow()) - timedelta(seconds=settings.worker_lost_after_s)


def orphaned_runs(session: Session, settings: Settings, now: datetime | None = None,
                  limit: int = 500) -> list:
    """(id, type, priority, attempts, step) of `running` jobs whose process went silent."""
    return session.execute(
        select(Job.id, Job.type, Job.priority, Job.attempts, Job.step)
        .join(WorkerHeartbeat, and_(WorkerHeartbeat.host == Job.worker_host,
                                    WorkerHeartbeat.pid == Job.worker_pid))
        .where(Job.status == JobStatus.RUNNING.value,
               WorkerHeartbeat.seen_at < _cutoff(settings, now))
        .limit(limit)).all()


def live_workers(session: Session, settings: Settings, now: datetime | None = None
                 ) -> dict[str, int]:
    """Queue -> worker processes heard of recently that consume it."""
    counts: dict[str, int] = {}
    for (queues,) in session.execute(select(WorkerHeartbeat.queues).where(
            WorkerHeartbeat.seen_at >= _cutoff(settings, now))):
        for queue in filter(None, queues.split(",")):
            counts[queue] = counts.get(queue, 0) + 1
    return counts
