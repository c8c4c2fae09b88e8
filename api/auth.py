"""Bearer API keys: every /v1 request resolves to a tenant or gets a 401."""

from __future__ import annotations

import threading
import time
import uuid

from flask import g, request

from api.errors import ApiError
from api.services import get_db, get_key_cache
from shared.tenancy import tenant_for_key

# Resolved keys are cached briefly so that a burst of submissions does not read the key table
# on every request (one indexed read per key per half second per process costs nothing).
# A revoked key stops working on every API process within this many seconds: no broadcast to
# miss, no Redis needed to log in.
_CACHE_TTL_S = 0.5


class KeyCache:
    """Thread-safe map of presented key -> (tenant id, expiry)."""

    def __init__(self, ttl_s: float = _CACHE_TTL_S) -> None:
        self._ttl = ttl_s
        self._entries: dict[str, tuple[uuid.UUID, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> uuid.UUID | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[1] > time.monotonic():
            return entry[0]
        return None

    def put(self, key: str, tenant_id: uuid.UUID) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (tenant_id, time.monotonic() + self._ttl)


def authenticate() -> None:
    """/v1's before_request hook: sets g.tenant_id from `Authorization: Bearer <key>`."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401, "unauthorized",
            "missing API key: send `Authorization: Bearer <key>` "
            "(create one with `flask --app api create-api-key --tenant NAME`)",
        )
    key = key.strip()
    cache = get_key_cache()
    tenant_id = cache.get(key)
    if tenant_id is None:
        with get_db().session() as session:
            tenant_id = tenant_for_key(session, key)
        if tenant_id is None:
            raise ApiError(401, "unauthorized", "API key is not valid or has been revoked")
        cache.put(key, tenant_id)
    g.tenant_id = tenant_id
