"""Signing webhook deliveries as the Standard Webhooks spec says (the server's side).

The server signs with its own copy of these few lines, so the API and worker images need
nothing from the client package; the client's `verify` is tested against what this signs.
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
    """`v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}` for one secret."""
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
