"""Signing and verifying webhooks as the Standard Webhooks spec says.

Headers: `webhook-id` (the same on every retry of one event), `webhook-timestamp` (unix
seconds), `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries over
`{id}.{timestamp}.{body}`, keyed with the secret's bytes (`whsec_` + base64). While a tenant
rotates its secret, one signature per active secret is sent; a receiver accepts any match.

    from vitrine_client import verify
    event = verify(secret, request.headers, request.get_data())  # raises if not genuine
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300


class WebhookVerificationError(ValueError):
    """The request is not a genuine, fresh webhook from Vitrine."""


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with 'whsec_'")
    return base64.b64decode(secret[len(SECRET_PREFIX):])


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` for one secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(secrets: Iterable[str], message_id: str, body: bytes,
         timestamp: int | None = None) -> dict[str, str]:
    """The three headers for a delivery, signed with every active secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signatures = " ".join(signature(s, message_id, timestamp, body) for s in secrets)
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures}


def verify(secret: str, headers: Mapping[str, str], body: bytes,
           tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None) -> dict[str, Any]:
    """The parsed body if a signature matches `secret` and the timestamp is fresh."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        message_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
        offered = lowered["webhook-signature"].split()
    except (KeyError, ValueError):
        raise WebhookVerificationError("missing or malformed webhook headers") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        raise WebhookVerificationError("timestamp is outside the tolerance (replay?)")
    expected = signature(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise WebhookVerificationError("no signature matches this secret")
    return json.loads(body)
