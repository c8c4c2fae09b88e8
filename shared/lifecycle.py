"""Status changes as conditional UPDATEs, so two processes can never both win one change.

Each change names the statuses it may start from; the pair is checked against the legal
transitions first, so code that asks for an illegal change fails loudly, not silently.
A change the job's webhook asks to hear about (`started` on queued -> running, `completed`
on any terminal status) records its delivery in the same transaction. The same holds for
webhook deliveries (`delivery_update`), and the rule for a run whose worker was lost is
written here once, for the runner and the sweeper alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Update, update
from sqlalchemy.orm import Session

from shared import batches
from shared.models import Job, WebhookDelivery, utcnow
from shared.schemas.jobs import WebhookEvent
from shared.settings import Settings
from shared.status import DeliveryStatus, ErrorCode, JobStatus
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
        .returning(Job.webhook, Job.batch_id)
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
    if to.is_terminal and changed[0].batch_id is not None:
        batches.finish_if_done(session, changed[0].batch_id)  # its last job ends the batch
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


def hand_off(session: Session, job_id: uuid.UUID, *, attempts: int, step: str,
             step_state: dict[str, Any], progress: dict[str, Any]) -> bool:
    """Move a running job on to its next step: it stays `running` (one job, one status) but
    is no longer claimed by any worker, until the step's own task claims it. Guarded by the
    attempt count, like every write of a run: a superseded or canceled run hands off nothing.
    Each step counts its own attempts; `started_at` becomes the hand-off time, so a step
    that waits or runs is judged stale by its own time, never by the steps before it."""
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING.value,
               Job.attempts == attempts)
        .values(step=step, step_state=step_state, progress=progress, attempts=0,
                worker_host=None, worker_pid=None, started_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1


def record_progress(session: Session, job_id: uuid.UUID, progress: dict[str, Any], *,
                    event_allowed: bool) -> tuple[bool, bool]:
    """Store a running job's progress. Returns (still running, `progress` webhook event
    recorded): the first is False once the job was canceled (or settled elsewhere), which
    tells its handler to stop; an event is recorded only if `event_allowed` and the job's
    webhook asks for it."""
    written = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
        .values(progress=progress).returning(Job.webhook)
        .execution_options(synchronize_session=False)
    ).all()
    if written and event_allowed and outbox.wants(written[0].webhook, WebhookEvent.PROGRESS):
        outbox.record_event(session, job_id, WebhookEvent.PROGRESS)
        return True, True
    return bool(written), False


def run_is_stale(started_at: datetime, job_type: str, settings: Settings,
                 now: datetime | None = None) -> bool:
    """A run older than its hard time limit plus VITRINE_STALE_GRACE_S cannot still be
    running: its worker was lost (used when the worker's process cannot be checked)."""
    return (now or utcnow()) - started_at > timedelta(seconds=settings.stale_after_s(job_type))


class LostRun(StrEnum):
    """What became of a `running` job whose worker was lost."""

    RETRY = "retry"                  # it has attempts left: run it again
    FAILED = "failed"                # out of attempts: failed `worker_lost` by this call
    SETTLED_ELSEWHERE = "settled"    # out of attempts, but another process settled it first


def settle_lost_run(session: Session, job_id: uuid.UUID, *, attempts: int,
                    settings: Settings) -> LostRun:
    """The one rule for a lost run: after VITRINE_MAX_ATTEMPTS runs the job fails
    `worker_lost`; before, the caller runs (or re-sends) it again."""
    if attempts < settings.max_attempts:
        return LostRun.RETRY
    failed = transition(
        session, job_id, from_statuses=[JobStatus.RUNNING], to=JobStatus.FAILED,
        extra_conditions=[Job.attempts == attempts], error_code=ErrorCode.WORKER_LOST.value,
        error_message=f"the worker running it was lost {attempts} times",
    )
    return LostRun.FAILED if failed else LostRun.SETTLED_ELSEWHERE


def delivery_update(*where: Any, from_statuses: Iterable[DeliveryStatus],
                    to: DeliveryStatus, **values: Any) -> Update:
    """The conditional UPDATE that moves matching deliveries from `from_statuses` to `to`;
    an illegal move raises IllegalTransition before anything is written."""
    sources = tuple(from_statuses)
    for source in sources:
        source.check_transition(to)
    return (
        update(WebhookDelivery)
        .where(WebhookDelivery.status.in_([s.value for s in sources]), *where)
        .values(status=to.value, **values)
        .execution_options(synchronize_session=False)
    )
