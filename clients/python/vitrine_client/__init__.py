"""Vitrine's Python client: `Vitrine` / `AsyncVitrine` for jobs and batches, webhook
`verify`, typed errors. Depends on httpx only; the `vitrine` CLI needs the `cli` extra."""

from vitrine_client.aio import AsyncVitrine
from vitrine_client.client import Vitrine
from vitrine_client.errors import (
    AuthenticationError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    ValidationError,
    VitrineError,
    WaitTimeout,
)
from vitrine_client.webhooks import WebhookVerificationError, sign, verify

__all__ = [
    "AsyncVitrine", "AuthenticationError", "BadRequest", "Conflict", "ConnectionFailed",
    "NotFound", "PayloadTooLarge", "RateLimited", "ServerError", "ServiceUnavailable",
    "ValidationError", "Vitrine", "VitrineError", "WaitTimeout", "WebhookVerificationError",
    "sign", "verify",
]
