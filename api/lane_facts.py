"""What every submission asks about its lane but what changes slowly, read once a second per
API process: the tenants' in-flight cap (it follows the workers' heartbeats, written every
5 s) and the lane's recent throughput (over its last 50 finishes, for the start estimate).
Each was a statement on every POST /v1/jobs; a statement costs more CPU in SQLAlchemy than in
the database, and the API's throughput is CPU-bound.
"""

from __future__ import annotations

import threading

from cachetools import TTLCache
from sqlalchemy.orm import Session

from shared.fairshare import cap_for
from shared.lanes import throughput
from shared.settings import Settings

READ_EVERY_S = 1.0


class LaneFacts:
    """One per app; safe under gunicorn's gevent workers and threads alike."""

    def __init__(self, settings: Settings, ttl_s: float = READ_EVERY_S) -> None:
        self._settings = settings
        self._caps: TTLCache = TTLCache(maxsize=64, ttl=ttl_s)
        self._rates: TTLCache = TTLCache(maxsize=64, ttl=ttl_s)
        self._lock = threading.Lock()

    def cap(self, session: Session, queue: str) -> int | None:
        """`shared.fairshare.cap_for`, at most a second old."""
        return self._read(self._caps, queue, lambda: cap_for(session, self._settings, queue))

    def rate(self, session: Session, queue: str) -> float | None:
        """`shared.lanes.throughput`, at most a second old."""
        return self._read(self._rates, queue,
                          lambda: throughput(session, self._settings, queue))

    def _read(self, cache: TTLCache, queue: str, read):
        with self._lock:
            if queue in cache:
                return cache[queue]
        value = read()  # outside the lock: a slow database must not serialise requests
        with self._lock:
            cache[queue] = value
        return value
