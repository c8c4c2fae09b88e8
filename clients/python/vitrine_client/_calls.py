"""What each API call sends, written once for the sync and the async client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TERMINAL_JOB = frozenset({"succeeded", "failed", "canceled"})
LONG_POLL_MAX_S = 60  # the API's bound on ?wait=
RETRY_STATUSES = frozenset({429, 503})
RUNNING_BATCH = frozenset({"creating", "in_progress"})


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Safe to send again after a connection error: reads, and writes with an Idempotency-Key.
    retry: bool = True


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _idempotent(key: str | None) -> dict[str, str]:
    # A fresh key per logical request: its retries reuse it, so a write that reached the
    # server before the connection broke is replayed, not done twice.
    return {"Idempotency-Key": key or f"vitrine-client-{uuid.uuid4()}"}


def create_job(type: str, input: dict[str, Any], *, priority: int | None = None,
               webhook: dict[str, Any] | None = None,
               idempotency_key: str | None = None) -> Call:
    body = _clean({"type": type, "input": input, "priority": priority, "webhook": webhook})
    return Call("POST", "/v1/jobs", json=body, headers=_idempotent(idempotency_key))


def get_job(job_id: str, wait: float | None = None) -> Call:
    return Call("GET", f"/v1/jobs/{job_id}", params=_clean({"wait": wait}))


def list_jobs(*, type: str | None = None, status: str | None = None, limit: int | None = None,
              cursor: str | None = None) -> Call:
    return Call("GET", "/v1/jobs", params=_clean({"type": type, "status": status,
                                                  "limit": limit, "cursor": cursor}))


def cancel_job(job_id: str) -> Call:
    return Call("POST", f"/v1/jobs/{job_id}/cancel", retry=False)


def jsonl(lines: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()


def create_batch(content: bytes, *, webhook_url: str | None = None,
                 job_events: Iterable[str] | None = None,
                 idempotency_key: str | None = None) -> Call:
    """A batch as a JSONL upload (what the server reads fastest, up to 50,000 lines)."""
    params = _clean({"webhook_url": webhook_url,
                     "job_events": ",".join(job_events) if job_events else None})
    return Call("POST", "/v1/batches", params=params, content=content,
                headers={"Content-Type": "application/x-ndjson",
                         **_idempotent(idempotency_key)})


def get_batch(batch_id: str, wait: float | None = None) -> Call:
    return Call("GET", f"/v1/batches/{batch_id}", params=_clean({"wait": wait}))


def list_batches(*, limit: int | None = None, cursor: str | None = None) -> Call:
    return Call("GET", "/v1/batches", params=_clean({"limit": limit, "cursor": cursor}))


def cancel_batch(batch_id: str) -> Call:
    return Call("POST", f"/v1/batches/{batch_id}/cancel", retry=False)


def retry_batch(batch_id: str) -> Call:
    return Call("POST", f"/v1/batches/{batch_id}/retry", retry=False)


def batch_results(batch_id: str, status: Iterable[str] | str | None = None) -> Call:
    if status is not None and not isinstance(status, str):
        status = ",".join(status)
    return Call("GET", f"/v1/batches/{batch_id}/results", params=_clean({"status": status}))


def batch_ended(batch: Mapping[str, Any]) -> bool:
    return batch["status"] not in RUNNING_BATCH


def next_wait(remaining: float | None) -> float:
    """How long the next long-poll may hold, given what is left of the caller's timeout."""
    return LONG_POLL_MAX_S if remaining is None else max(0.0, min(LONG_POLL_MAX_S, remaining))
