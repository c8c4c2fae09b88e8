"""What every submission asks about its lane but what changes slowly, read once a second per
API process: the tenants' in-flight cap (it follows the workers' heartbeats, written every
5 s), the lane's recent throughput (over its last 50 finishes, for the start estimate) and
its snapshot of queued jobs (where a held job stands, shared.lanes).
Each was a statement on every POST /v1/jobs; a statement costs more CPU in SQLAlchemy than in
the database, and the API's throughput is CPU-bound.
"""

from __future__ import annotations

import threading

from cachetools import TTLCache
from sqlalchemy.orm import Session

from shared.fairshare import cap_for
from shared.lanes import LaneSnapshot, lane_snapshot, throughput
from shared.settings import Settings

READ_EVERY_S = 1.0


class LaneFacts:
    """One per app; safe under gunicorn's gevent workers and threads alike."""

    def __init__(self, settings: Settings, ttl_s: float = READ_EVERY_S) -> None:
        self._settings = settings
        self._readings: dict[str, TTLCache] = {
            kind: TTLCache(maxsize=64, ttl=ttl_s) for kind in ("cap", "rate", "snapshot")}
        self._lock = threading.Lock()
        self._reading: dict[tuple[str, str], threading.Lock] = {}

    def cap(self, session: Session, queue: str) -> int | None:
        """`shared.fairshare.cap_for`, at most a second old."""
        return self._read("cap", queue, session,
                          lambda: cap_for(session, self._settings, queue))

    def rate(self, session: Session, queue: str) -> float | None:
        """`shared.lanes.throughput`, at most a second old."""
        return self._read("rate", queue, session,
                          lambda: throughput(session, self._settings, queue))

    def snapshot(self, session: Session, queue: str) -> LaneSnapshot:
        """`shared.lanes.lane_snapshot`, at most a second old."""
        return self._read("snapshot", queue, session,
                          lambda: lane_snapshot(session, self._settings, queue))

    def _read(self, kind: str, queue: str, session: Session, read):
        cache = self._readings[kind]
        with self._lock:
            if queue in cache:
                return cache[queue]
            reading = self._reading.setdefault((kind, queue), threading.Lock())
        # The connection first: a reader waiting for one from a pool that the requests
        # waiting below hold would wait for good.
        session.connection()
        # One request reads (outside the shared lock: a slow database must not hold up the
        # other lanes); the others asking meanwhile wait for its answer instead of reading
        # too: a lane's snapshot takes tens of milliseconds behind a deep backlog.
        with reading:
            with self._lock:
                if queue in cache:
                    return cache[queue]
            value = read()
            with self._lock:
                cache[queue] = value
            return value
