"""Idempotency-Key for writes other than job submission (whose key lives on the job): the
first answer is stored with the key in the same transaction as the write, and the same key
with the same body replays it (`Idempotent-Replayed: true`) until VITRINE_IDEMPOTENCY_TTL_S
has passed; the same key with another body is a 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import g, request
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.services import get_settings
from api.transactions import in_transaction
from shared.models import IdempotencyKey, utcnow
from shared.schemas.jobs import iso

MAX_KEY = 255
HEADER = "Idempotency-Key"


def idempotency_key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise ApiError(422, "validation_error", f"{HEADER} header is invalid",
                       [{"path": f"header:{HEADER}", "problem": f"must be 1-{MAX_KEY} characters"}])
    return key


def body_hash(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def once(scope: str, body: Any, work: Callable[[Session], tuple[dict, int]]):
    """Run `work(session) -> (answer, status)` once per Idempotency-Key in `scope`; a Flask
    response tuple. Without the header it simply runs."""
    key = idempotency_key()
    if key is None:
        return in_transaction(work)
    digest = body_hash(body)

    def run(session: Session) -> tuple[dict, int, bool]:
        now = utcnow()
        earlier = session.get(IdempotencyKey, (g.tenant_id, scope, key))
        if earlier is not None and earlier.created_at >= now - timedelta(
                seconds=get_settings().idempotency_ttl_s):
            if earlier.request_hash != digest:
                raise ApiError(409, "idempotency_conflict",
                               f"{HEADER} was already used with a different request body",
                               [{"path": f"header:{HEADER}",
                                 "problem": f"already used at {iso(earlier.created_at)}"}])
            return earlier.response, earlier.status_code, True
        if earlier is not None:  # expired: the key starts over
            session.delete(earlier)
            session.flush()
        answer, status = work(session)
        session.add(IdempotencyKey(tenant_id=g.tenant_id, scope=scope, key=key,
                                   request_hash=digest, response=answer, status_code=status,
                                   created_at=now))
        return answer, status, False

    # Two requests with one new key at once: the loser's insert fails and its retry replays.
    answer, status, replayed = in_transaction(run, retry_duplicates=True)
    return answer, status, ({"Idempotent-Replayed": "true"} if replayed else {})
