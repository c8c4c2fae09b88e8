"""Status changes as conditional UPDATEs, so two processes can never both win one change.

Each change names the statuses it may start from; the pair is checked against the legal
transitions first, so code that asks for an illegal change fails loudly, not silently.
A change the job's webhook asks to hear about (`started` on queued -> running, `completed`
on any terminal status) records its delivery in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.models import Job, utcnow
from shared.schemas.jobs import WebhookEvent
from shared.status import JobStatus
from shared.webhooks import outbox


def transition(
    session: Session,
    job_id: uuid.UUID,
    *,
    from_statuses: Iterable[JobStatus],
    to: JobStatus,
    tenant_id: uuid.UUID | None = None,
    extra_conditions: Iterable[Any] = (),
    **values: Any,
) -> bool:
    """Move the job to `to` if it is in one of `from_statuses`; True when this call did it."""
    sources = tuple(from_statuses)
    for source in sources:
        source.check_transition(to)
    if to.is_terminal:
        values.setdefault("finished_at", utcnow())
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status.in_([s.value for s in sources]), *extra_conditions)
        .values(status=to.value, **values)
        .returning(Job.webhook)
        .execution_options(synchronize_session=False)
    )
    if tenant_id is not None:
        statement = statement.where(Job.tenant_id == tenant_id)
    changed = session.execute(statement).all()
    if not changed:
        return False
    event = _event_for(sources, to)
    if event is not None and outbox.wants(changed[0].webhook, event):
        outbox.record_event(session, job_id, event)
    return True


def _event_for(sources: tuple[JobStatus, ...], to: JobStatus) -> WebhookEvent | None:
    if to.is_terminal:
        return WebhookEvent.COMPLETED
    if to is JobStatus.RUNNING and JobStatus.QUEUED in sources:
        return WebhookEvent.STARTED
    return None


CANCELABLE = (JobStatus.QUEUED, JobStatus.RUNNING)


def cancel(session: Session, job_id: uuid.UUID, tenant_id: uuid.UUID) -> bool:
    """Cancel a queued or running job; a running job's result will be discarded."""
    return transition(
        session, job_id, from_statuses=CANCELABLE, to=JobStatus.CANCELED, tenant_id=tenant_id,
        error_code=None,
    )


def take_over(
    session: Session, job_id: uuid.UUID, *, seen_attempts: int, **values: Any
) -> bool:
    """Restart a `running` job whose previous run is known to be dead.

    Not a status change (running stays running), so it is guarded by the attempt count
    instead: of two deliveries that both saw the same dead run, only one takes it over.
    """
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING.value,
               Job.attempts == seen_attempts)
        .values(attempts=seen_attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1
