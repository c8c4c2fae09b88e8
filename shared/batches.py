"""Batch rules both sides use: counts, the view, and when a batch has ended.

A batch is `creating` while its chunks of jobs are inserted (its first jobs may already run;
it cannot end before its last chunk is in), then `in_progress` until every one of its jobs
is terminal, then `completed` (or
`canceled` by POST .../cancel). Ending is a conditional UPDATE (`... WHERE status =
'in_progress' AND NOT EXISTS (a job still queued or running)`), made in the transaction of
each batched job's terminal change (shared.lifecycle); two last jobs that end at the same
moment on PostgreSQL may each still see the other running, so the sweeper ends any batch
left in progress with no live jobs (`finish_stragglers`). The batch's `completed` webhook
event is recorded by whichever call ended it, in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from shared.models import Batch, Job, utcnow
from shared.schemas.jobs import iso
from shared.status import JobStatus
from shared.webhooks import outbox

CREATING, IN_PROGRESS = "creating", "in_progress"
COMPLETED, CANCELED = "completed", "canceled"
RUNNING_STATES = (CREATING, IN_PROGRESS)
LIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
SHOWN_INVALID_LINES = 100


def counts(session: Session, batch_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """request_counts for each batch, from its jobs (one GROUP BY)."""
    found = {batch_id: {"total": 0, **{s.value: 0 for s in JobStatus}} for batch_id in batch_ids}
    if not batch_ids:
        return found
    rows = session.execute(
        select(Job.batch_id, Job.status, func.count())
        .where(Job.batch_id.in_(batch_ids)).group_by(Job.batch_id, Job.status)
    ).all()
    for batch_id, status, number in rows:
        found[batch_id][status] = number
        found[batch_id]["total"] += number
    return found


def batch_view(batch: Batch, request_counts: dict[str, int],
               now: datetime | None = None) -> dict[str, Any]:
    """The public JSON shape of a batch (matches BatchView)."""
    end = batch.finished_at or now or utcnow()
    elapsed = max((end - batch.created_at).total_seconds(), 0.0)
    done = sum(request_counts[s.value] for s in JobStatus if s.is_terminal)
    rate = done / elapsed if done and elapsed > 0 else None
    left = request_counts["total"] - done
    eta = 0.0 if batch.status not in RUNNING_STATES else (left / rate if rate else None)
    invalid = batch.invalid_lines or []
    return {
        "id": str(batch.id),
        "status": batch.status,
        "request_counts": request_counts,
        "invalid_count": len(invalid),
        "invalid_lines": invalid[:SHOWN_INVALID_LINES],
        "timings": {"created_at": iso(batch.created_at), "finished_at": iso(batch.finished_at),
                    "elapsed_seconds": round(elapsed, 3),
                    "jobs_per_second": round(rate, 3) if rate else None,
                    "eta_seconds": round(eta, 1) if eta is not None else None},
        "webhook": batch.webhook,
        "job_events": batch.job_events,
        "retry_of": str(batch.retry_of) if batch.retry_of else None,
    }


def view_of(session: Session, batch: Batch) -> dict[str, Any]:
    return batch_view(batch, counts(session, [batch.id])[batch.id])


def _end(session: Session, batch_id: uuid.UUID, to: str, *where: Any) -> bool:
    """in_progress -> `to` (completed or canceled) if `where` holds; records the webhook."""
    ended = session.execute(
        update(Batch).where(Batch.id == batch_id, Batch.status == IN_PROGRESS, *where)
        .values(status=to, finished_at=utcnow()).returning(Batch.webhook)
        .execution_options(synchronize_session=False)
    ).all()
    if not ended:
        return False
    if ended[0].webhook:
        batch = session.scalars(select(Batch).where(Batch.id == batch_id)
                                .execution_options(populate_existing=True)).one()
        body = json.dumps({"event": "completed", "object": "batch", **view_of(session, batch)},
                          separators=(",", ":"))
        outbox.record_batch_event(session, batch, body)
    return True


def _no_live_jobs(batch_id: uuid.UUID):
    return ~exists().where(Job.batch_id == batch_id, Job.status.in_(LIVE))


def created(session: Session, batch_id: uuid.UUID) -> bool:
    """creating -> in_progress once every chunk is in; it ends at once if all jobs have."""
    session.execute(update(Batch).where(Batch.id == batch_id, Batch.status == CREATING)
                    .values(status=IN_PROGRESS).execution_options(synchronize_session=False))
    return finish_if_done(session, batch_id)


def finish_if_done(session: Session, batch_id: uuid.UUID) -> bool:
    """Mark the batch completed if none of its jobs is queued or running any more.

    One transaction at a time per batch: on PostgreSQL, two of a batch's last jobs ending at
    once each saw the other still running (read committed) and neither ended the batch,
    which stayed in_progress for good. The row lock makes the second wait for the first's
    commit, and its check, a new statement, then sees it. (SQLite writes one at a time.)"""
    session.execute(select(Batch.id).where(Batch.id == batch_id).with_for_update())
    return _end(session, batch_id, COMPLETED, _no_live_jobs(batch_id))


def cancel(session: Session, batch_id: uuid.UUID) -> int:
    """Cancel every queued or running job of the batch (a running job's result is then
    discarded) and end the batch `canceled`; returns how many jobs were canceled."""
    for source in LIVE:
        JobStatus(source).check_transition(JobStatus.CANCELED)
    changed = session.execute(
        update(Job).where(Job.batch_id == batch_id, Job.status.in_(LIVE))
        .values(status=JobStatus.CANCELED.value, finished_at=utcnow(), error_code=None)
        .returning(Job.id, Job.webhook).execution_options(synchronize_session=False)
    ).all()
    for job_id, webhook in changed:
        if outbox.wants(webhook, outbox.WebhookEvent.COMPLETED):
            outbox.record_event(session, job_id, outbox.WebhookEvent.COMPLETED)
    _end(session, batch_id, CANCELED)
    return len(changed)


def finish_stragglers(session: Session, limit: int = 100) -> int:
    """End in-progress batches whose jobs have all ended (the sweeper's safety net)."""
    live = exists().where(Job.batch_id == Batch.id, Job.status.in_(LIVE))
    candidates = session.scalars(
        select(Batch.id).where(Batch.status == IN_PROGRESS, ~live).limit(limit)
    ).all()
    return sum(finish_if_done(session, batch_id) for batch_id in candidates)
