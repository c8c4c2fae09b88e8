"""Webhook events as outbox rows, written in the transaction of the change they report.

`record_event` runs inside the status change's transaction, so a committed change always
has its delivery row; after the commit the row's id is sent to the `webhooks` queue. When
that send fails (broker down) the sweeper sends it later: the row, not the message, is the
record.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.dispatch import send_delivery
from shared.models import Batch, Job, WebhookDelivery, utcnow
from shared.schemas.jobs import WebhookEvent, job_view
from shared.status import DeliveryStatus

if TYPE_CHECKING:  # shared.db builds every Database with this module's hook
    from shared.db import Database

_PENDING_KEY = "vitrine.webhook_deliveries"
# Only a job's final outcome must arrive; started/progress are hints a poll can replace.
BEST_EFFORT_EVENTS = frozenset({WebhookEvent.STARTED, WebhookEvent.PROGRESS})


def wants(spec: dict[str, Any] | None, event: WebhookEvent) -> bool:
    """Whether a job's stored `webhook` asks for `event`."""
    return bool(spec) and event.value in spec.get("events", [WebhookEvent.COMPLETED.value])


def body_for(job: Job, event: WebhookEvent) -> str:
    """What the receiver gets: the job view (as GET /v1/jobs/{id}) plus the event name."""
    return json.dumps({"event": event.value, **job_view(job)}, separators=(",", ":"))


def record_event(session: Session, job_id: uuid.UUID, event: WebhookEvent,
                 now: datetime | None = None) -> uuid.UUID:
    """Add the delivery row for `event` of a job whose webhook asks for it."""
    now = now or utcnow()
    job = session.scalars(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    ).one()
    delivery = WebhookDelivery(
        id=uuid.uuid4(), job_id=job.id, tenant_id=job.tenant_id, event=event.value,
        url=job.webhook["url"], body=body_for(job, event),
        best_effort=event in BEST_EFFORT_EVENTS, status=DeliveryStatus.PENDING.value,
        attempt_count=0, next_attempt_at=now, dispatched_for=now, created_at=now,
    )
    session.add(delivery)
    session.info.setdefault(_PENDING_KEY, []).append(delivery.id)
    return delivery.id


def record_batch_event(session: Session, batch: Batch, body: str,
                       now: datetime | None = None) -> uuid.UUID:
    """Add the delivery row of a batch's `completed` event (sent like a job's)."""
    now = now or utcnow()
    delivery = WebhookDelivery(
        id=uuid.uuid4(), job_id=None, batch_id=batch.id, tenant_id=batch.tenant_id,
        event=WebhookEvent.COMPLETED.value, url=batch.webhook["url"], body=body,
        best_effort=False, status=DeliveryStatus.PENDING.value, attempt_count=0,
        next_attempt_at=now, dispatched_for=now, created_at=now,
    )
    session.add(delivery)
    session.info.setdefault(_PENDING_KEY, []).append(delivery.id)
    return delivery.id


def send_after_commit(db: Database, celery: Celery) -> None:
    """Send the deliveries each transaction of `db` recorded, once it has committed."""

    def on_commit(session: Session) -> None:
        for delivery_id in session.info.pop(_PENDING_KEY, ()):
            send_delivery(celery, delivery_id)

    def on_rollback(session: Session) -> None:
        session.info.pop(_PENDING_KEY, None)

    db.on_commit(on_commit, on_rollback)
