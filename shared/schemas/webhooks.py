"""Webhook deliveries as the API shows them, and the secret rotation request."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.models import DisabledWebhookUrl, WebhookAttempt, WebhookDelivery
from shared.schemas.base import StrictModel
from shared.schemas.jobs import iso

MAX_ROTATION_OVERLAP_S = 7 * 24 * 3600


class RotateSecret(StrictModel):
    previous_valid_for_s: int = Field(
        86400, ge=0, le=MAX_ROTATION_OVERLAP_S,
        description="How long the old secret keeps signing (a second signature) so receivers "
                    "can switch over; 0 ends it at once.")


class AttemptView(StrictModel):
    number: int
    attempted_at: str
    status_code: int | None
    latency_ms: float
    error: str | None
    response: str | None


class DeliveryView(StrictModel):
    id: str
    job_id: str
    event: str
    webhook_id: str = Field(description="The `webhook-id` header: the same on every retry.")
    url: str
    status: str = Field(description="pending, sending, succeeded, failed or disabled.")
    best_effort: bool
    attempt_count: int
    next_attempt_at: str | None
    last_error: str | None
    created_at: str
    finished_at: str | None
    attempts: list[AttemptView]


class DeliveryList(StrictModel):
    deliveries: list[DeliveryView]


def _attempt_view(attempt: WebhookAttempt) -> dict[str, Any]:
    return {"number": attempt.number, "attempted_at": iso(attempt.attempted_at),
            "status_code": attempt.status_code, "latency_ms": attempt.latency_ms,
            "error": attempt.error, "response": attempt.response_excerpt}


def delivery_view(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "job_id": str(delivery.job_id),
        "event": delivery.event,
        "webhook_id": delivery.message_id,
        "url": delivery.url,
        "status": delivery.status,
        "best_effort": delivery.best_effort,
        "attempt_count": delivery.attempt_count,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "finished_at": iso(delivery.finished_at),
        "attempts": [_attempt_view(a) for a in delivery.attempts],
    }


def disabled_url_view(row: DisabledWebhookUrl) -> dict[str, Any]:
    return {"url": row.url, "disabled_at": iso(row.disabled_at), "reason": row.reason}
