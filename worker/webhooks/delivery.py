"""One attempt of one webhook delivery, and what follows from its outcome.

Every status change is a conditional UPDATE through the delivery state machine
(shared.lifecycle.delivery_update): a delivery is claimed pending and due -> sending, so
duplicate messages and the sweeper's re-sends never send one attempt twice, and only the
sender holding it (sending) records its outcome. Outcomes: 2xx succeeds;
410 Gone disables the URL for the tenant; a refused address fails at once; anything else
(other statuses, redirects, timeouts, connection errors) is retried for a `completed` event
until the retry window has passed, and not retried for best-effort events.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from celery import Celery
from sqlalchemy.exc import IntegrityError

from shared import lifecycle
from shared.db import Database
from shared.dispatch import send_delivery
from shared.models import DisabledWebhookUrl, WebhookAttempt, WebhookDelivery, utcnow
from shared.settings import Settings
from shared.status import DeliveryStatus
from shared.webhooks.secrets import tenant_secrets
from shared.webhooks.signing import sign
from worker.webhooks.schedule import gives_up, next_delay_s
from worker.webhooks.sender import PostResult, post

log = logging.getLogger("vitrine.webhooks")

# Short waits ride on a Celery countdown; the message then sits unacked in a worker, which
# is safe only well inside the broker's visibility timeout (an hour or more). Longer waits
# are kept in the database and sent by the sweeper when due.
MAX_COUNTDOWN_S = 300
# Celery may run a countdown task a moment early relative to this host's clock.
EARLY_TOLERANCE = timedelta(seconds=1)


def deliver(db: Database, settings: Settings, celery: Celery, delivery_id: uuid.UUID) -> str:
    """Make the next attempt of a due delivery; returns what became of it."""
    now = utcnow()
    with db.session() as session:  # committed before sending: a duplicate finds it taken
        delivery = _claim(session, delivery_id, now)
        if delivery is None:
            return "skipped"
        disabled = session.get(DisabledWebhookUrl, (delivery.tenant_id, delivery.url))
        if disabled is not None:
            _finish(session, delivery_id, DeliveryStatus.DISABLED, now,
                    f"url disabled on {disabled.disabled_at.isoformat()}: {disabled.reason}")
            return DeliveryStatus.DISABLED.value
        secrets = tenant_secrets(session, delivery.tenant_id, now).active()
        url, body, message_id = delivery.url, delivery.body.encode(), delivery.message_id
        number = delivery.attempt_count + 1
    attempted_at = utcnow()
    result = post(url, body, sign(secrets, message_id, body), timeout_s=settings.webhook_timeout_s,
                  allowlist=settings.webhook_allowlist)
    status, countdown = _record(db, settings, delivery_id, number, attempted_at, result)
    log.info("event=webhook_attempt delivery=%s attempt=%d status_code=%s error=%r outcome=%s",
             delivery_id, number, result.status_code, result.error, status)
    if countdown is not None:
        send_delivery(celery, delivery_id, countdown=countdown)  # lost: the sweeper sends it
    return status


def _claim(session, delivery_id: uuid.UUID, now: datetime) -> WebhookDelivery | None:
    """pending and due -> sending, or None when another sender has it or it is not due."""
    return session.scalars(
        lifecycle.delivery_update(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.next_attempt_at <= now + EARLY_TOLERANCE,
            from_statuses=[DeliveryStatus.PENDING], to=DeliveryStatus.SENDING,
            sending_since=now,
        ).returning(WebhookDelivery).execution_options(populate_existing=True)
    ).one_or_none()


def _move(session, delivery_id: uuid.UUID, to: DeliveryStatus, **values) -> bool:
    """sending -> `to` for the attempt this sender holds; False if it no longer holds it."""
    return session.execute(lifecycle.delivery_update(
        WebhookDelivery.id == delivery_id, from_statuses=[DeliveryStatus.SENDING], to=to,
        **values)).rowcount == 1


def _finish(session, delivery_id: uuid.UUID, status: DeliveryStatus, now: datetime,
            error: str | None, **values) -> bool:
    return _move(session, delivery_id, status, finished_at=now, next_attempt_at=None,
                 sending_since=None, last_error=error, **values)


def _describe(result: PostResult) -> str | None:
    code = result.status_code
    if code is None:
        return result.error
    if 200 <= code < 300:
        return None
    if 300 <= code < 400:
        return f"HTTP {code} redirect to {result.location or '?'} not followed"
    return f"HTTP {code}"


def _record(db: Database, settings: Settings, delivery_id: uuid.UUID, number: int,
            attempted_at: datetime, result: PostResult) -> tuple[str, float | None]:
    """Store the attempt and move the delivery on; returns (status, countdown to re-send)."""
    now = utcnow()
    error = _describe(result)
    code = result.status_code
    with db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        session.add(WebhookAttempt(
            delivery_id=delivery_id, number=number, attempted_at=attempted_at,
            status_code=code, latency_ms=result.latency_ms, error=error,
            response_excerpt=result.excerpt,
        ))
        countdown = None
        if code is not None and 200 <= code < 300:
            status = DeliveryStatus.SUCCEEDED
            held = _finish(session, delivery_id, status, now, None, attempt_count=number)
        elif code == 410:
            status = DeliveryStatus.DISABLED
            held = _disable_url(session, delivery, now, attempt_count=number)
        elif result.refused or delivery.best_effort or gives_up(
                delivery.created_at, now, settings.webhook_retry_window_s):
            status = DeliveryStatus.FAILED
            held = _finish(session, delivery_id, status, now, error, attempt_count=number)
        else:
            status = DeliveryStatus.PENDING
            delay = next_delay_s(number, settings.webhook_retry_delays_s)
            next_at = now + timedelta(seconds=delay)
            countdown = delay if delay <= MAX_COUNTDOWN_S else None
            held = _move(session, delivery_id, status, attempt_count=number, sending_since=None,
                         last_error=error, next_attempt_at=next_at,
                         dispatched_for=next_at if countdown is not None else None)
        if not held:
            # The sweeper released it: it took this sender for dead, and the delivery is
            # pending (or with another sender) again. The attempt is kept; its outcome is not.
            log.warning("event=webhook_outcome_dropped delivery=%s attempt=%d outcome=%s",
                        delivery_id, number, status)
            return "released", None
        return status.value, countdown


def _disable_url(session, delivery: WebhookDelivery, now: datetime, **values) -> bool:
    """410 Gone: the receiver says this URL is finished with; stop every pending event too."""
    reason = f"answered 410 Gone to delivery {delivery.id}"
    if not _finish(session, delivery.id, DeliveryStatus.DISABLED, now, reason, **values):
        return False
    if session.get(DisabledWebhookUrl, (delivery.tenant_id, delivery.url)) is None:
        try:
            with session.begin_nested():
                session.add(DisabledWebhookUrl(tenant_id=delivery.tenant_id, url=delivery.url,
                                               disabled_at=now, reason=reason))
        except IntegrityError:
            pass  # another event's 410 disabled it at the same moment
    session.execute(lifecycle.delivery_update(
        WebhookDelivery.tenant_id == delivery.tenant_id, WebhookDelivery.url == delivery.url,
        from_statuses=[DeliveryStatus.PENDING], to=DeliveryStatus.DISABLED,
        finished_at=now, next_attempt_at=None, last_error=f"url disabled: {reason}",
    ))
    log.warning("event=webhook_url_disabled tenant=%s url=%s", delivery.tenant_id, delivery.url)
    return True

