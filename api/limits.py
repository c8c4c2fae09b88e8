"""Per-tenant submission limits: a rate (with a burst), a quota of active jobs, a priority
ceiling. The defaults are settings; an operator overrides them per tenant with
`flask --app api tenant set-limits` (shared.tenant_limits).

The rate is counted by the `limits` library in Redis (shared by every API process) as a
sliding window of BURST submissions over BURST/RATE seconds: a tenant may send BURST at once
and RATE per second after that, the shape of a token bucket. The sliding window counter
(this window's count plus the last one's, weighted by how much of it still overlaps) costs
two counters per tenant whatever BURST is; an exact moving window keeps one entry per
submission and re-counts them on every request, which grew with BURST. The hit and the read
of the window for the headers share one Redis round trip (api.sliding_window). Answers
carry the RateLimit headers (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`,
`RateLimit-Policy`); a refusal is a 429 with `Retry-After`. If Redis cannot be reached the
rate is not enforced (the quota, counted in the database, still is): a broker outage must
not stop submissions the sweeper would deliver later.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.strategies import SlidingWindowCounterRateLimiter

from api.errors import ApiError
from api.services import get_settings
from api.sliding_window import OneTripRedisStorage, rate_limit_storage
from shared.settings import Settings
from shared.tenant_limits import EffectiveLimits, limits_and_active

log = logging.getLogger("vitrine.limits")

QUOTA_RETRY_AFTER_S = 5
_KEY = "vitrine.limiter"


@dataclass
class Admission:
    """What a submission was allowed: the priority it gets and the headers to answer with."""

    priority: int
    headers: dict[str, str]


class SubmissionLimiter:
    """One per API process; the counts live in Redis, so all processes share them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._storage = rate_limit_storage(
            settings.broker_url, socket_connect_timeout=0.3, socket_timeout=0.5)
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._one_trip = (self._storage.one_trip
                          if isinstance(self._storage, OneTripRedisStorage) else nullcontext)

    @staticmethod
    def rate_item(limits: EffectiveLimits) -> RateLimitItemPerSecond:
        window = max(1, round(limits.submit_burst / limits.submit_rate))
        return RateLimitItemPerSecond(limits.submit_burst, window)

    def admit(self, session, tenant_id: uuid.UUID, requested_priority: int,
              take: Callable[[uuid.UUID, EffectiveLimits], dict[str, str]] | None = None
              ) -> Admission:
        """Count one submission of the tenant, or raise a 429 saying which limit and when.
        `take` stands in for `self.take` when the caller must count a submission only once
        (a transaction retried after contention runs this again)."""
        limits, active = limits_and_active(session, self.settings, tenant_id)
        headers = (take or self.take)(tenant_id, limits)
        if active >= limits.max_active_jobs:
            raise TooManyRequests(
                "active_jobs_quota",
                f"{active} jobs are queued or running, the most this tenant may have at once; "
                "submit more as they finish",
                "max_active_jobs", QUOTA_RETRY_AFTER_S, headers)
        return Admission(priority=min(requested_priority, limits.max_priority),
                         headers=headers)

    def take(self, tenant_id: uuid.UUID, limits: EffectiveLimits) -> dict[str, str]:
        """Count one submission against the tenant's rate; its RateLimit headers."""
        item = self.rate_item(limits)
        key = str(tenant_id)
        try:
            with self._one_trip():  # the hit and the read (api.sliding_window)
                allowed = self._limiter.hit(item, "submissions", key)
                stats = self._limiter.get_window_stats(item, "submissions", key)
        except Exception as exc:  # Redis down: see the module docstring
            log.warning("event=rate_limit_unavailable error=%r", exc)
            return {}
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        headers = {
            "RateLimit-Limit": str(item.amount),
            "RateLimit-Remaining": str(stats.remaining),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{item.amount};w={item.get_expiry()}",
        }
        if not allowed:
            raise TooManyRequests(
                "rate_limited",
                f"more than {item.amount} submissions in {item.get_expiry()} s (a sustained "
                f"{limits.submit_rate:g}/s with bursts of {limits.submit_burst})",
                "submit_rate", max(1, reset), headers)
        return headers


def get_limiter() -> SubmissionLimiter:
    """This API process's limiter, made on first use (after gunicorn forked)."""
    limiter = current_app.extensions.get(_KEY)
    if limiter is None:
        limiter = current_app.extensions[_KEY] = SubmissionLimiter(get_settings())
    return limiter


class TooManyRequests(ApiError):
    def __init__(self, code: str, message: str, limit: str, retry_after: int,
                 headers: dict[str, str]) -> None:
        super().__init__(429, code, message,
                         [{"path": f"limits.{limit}",
                           "problem": f"retry after {retry_after} s; the operator sets this "
                                      "limit per tenant"}])
        self.headers = {**headers, "Retry-After": str(retry_after)}
