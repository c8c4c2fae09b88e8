"""/v1/jobs/{id}/deliveries: what was sent to a job's webhook, and sending it again."""

from __future__ import annotations

from flask import Blueprint, g
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.errors import ApiError
from api.jobs import load_job, parse_id
from api.openapi import documented
from api.services import get_celery, get_db
from api.transactions import in_transaction
from shared import lifecycle
from shared.dispatch import send_delivery
from shared.models import DisabledWebhookUrl, WebhookDelivery, utcnow
from shared.schemas.webhooks import DeliveryList, DeliveryView, delivery_view
from shared.status import DeliveryStatus

bp = Blueprint("deliveries", __name__, url_prefix="/jobs/<job_id>/deliveries")


@bp.get("")
@documented("The job's webhook events with every attempt", answer="deliveries, oldest first",
            schema=DeliveryList, errors=[404])
def list_deliveries(job_id: str):
    """Every event of the job's webhook with all its attempts, oldest first."""
    with get_db().session() as session:
        job = load_job(session, job_id)
        deliveries = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.job_id == job.id)
            .options(selectinload(WebhookDelivery.attempts))
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        ).all()
        return {"deliveries": [delivery_view(d) for d in deliveries]}


@bp.post("/<delivery_id>/retry")
@documented("Send a webhook event again (same body and webhook-id)", status=202,
            answer="due now", schema=DeliveryView, errors=[404])
def retry_delivery(job_id: str, delivery_id: str):
    """Send the event again now (same body and webhook-id), whatever became of it before."""
    def reopen(session) -> WebhookDelivery:
        job = load_job(session, job_id)
        delivery = session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == parse_id(delivery_id, "delivery"),
            WebhookDelivery.job_id == job.id))
        if delivery is None:
            raise ApiError(404, "not_found", f"no delivery {delivery_id!r} for job {job_id!r}")
        if session.get(DisabledWebhookUrl, (g.tenant_id, delivery.url)) is not None:
            raise ApiError(409, "webhook_url_disabled",
                           f"{delivery.url} answered 410 Gone and is disabled; re-enable it "
                           "with DELETE /v1/webhooks/disabled-urls?url=... first")
        now = utcnow()
        # Only from a resting state: an attempt in flight finishes first.
        resting = [s for s in DeliveryStatus if s is not DeliveryStatus.SENDING]
        reopened = session.execute(lifecycle.delivery_update(
            WebhookDelivery.id == delivery.id, from_statuses=resting, to=DeliveryStatus.PENDING,
            next_attempt_at=now, dispatched_for=now, finished_at=None,
        )).rowcount == 1
        if not reopened:
            raise ApiError(409, "delivery_in_flight",
                           "an attempt of this delivery is being sent; retry when it ends")
        return delivery

    delivery = in_transaction(reopen)
    # Not sent: the row is due now, so the sweeper sends it shortly.
    send_delivery(get_celery(), delivery.id)
    with get_db().session() as session:
        return delivery_view(session.get(WebhookDelivery, delivery.id)), 202
