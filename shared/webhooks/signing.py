"""Signing webhook deliveries as the Standard Webhooks spec says (the server's side).

`webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` entries over
`{id}.{timestamp}.{body}`, keyed with the secret's bytes (`whsec_` + base64), one per active
secret. Receivers verify with the client package (`vitrine_client.verify`, clients/python);
the server does not depend on it, and tests check that the two agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"


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
