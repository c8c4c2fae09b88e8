"""The `limits` library's Redis storage, with a submission's two round trips made one.

A submission counts a hit in the tenant's sliding window, then reads the window for its
RateLimit headers: two Lua scripts of the library, two round trips, ~19 % of a submission's
CPU in the API. Within `one_trip()` the hit also queues the read in the same pipeline, and
the strategy's `get_window_stats` that follows (same key) is answered from it; the
arithmetic stays the library's (SlidingWindowCounterRateLimiter).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from limits.storage import RedisStorage, Storage, storage_from_string
from redis.exceptions import NoScriptError

# Redis's own schemes; Sentinel, Cluster and the rest keep the library's storage as it is.
PIPELINED_SCHEMES = ("redis://", "rediss://")


class OneTripRedisStorage(RedisStorage):
    """No STORAGE_SCHEME of its own: the library's registry still maps redis:// to its own
    class, and this one is made only by `rate_limit_storage`. Outside `one_trip` it is the
    library's storage, unchanged."""

    def __init__(self, uri: str, **options) -> None:
        super().__init__(uri, **options)
        self._trip = threading.local()  # greenlet-local under gevent's patching

    @contextmanager
    def one_trip(self) -> Iterator[None]:
        """Within: a sliding-window hit reads its window in the same round trip, and the
        next read of that window is answered from it, once."""
        self._trip.window = None
        self._trip.active = True
        try:
            yield
        finally:
            self._trip.active, self._trip.window = False, None

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int,
                                     amount: int = 1) -> bool:
        if not getattr(self._trip, "active", False):
            return super().acquire_sliding_window_entry(key, limit, expiry, amount)
        keys = [self.prefixed_key(self._previous_window_key(key)),
                self.prefixed_key(self._current_window_key(key))]
        acquired, window = self._acquire_and_read(keys, limit, expiry, amount)
        self._trip.window = (key, expiry, window)
        return bool(acquired)

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        read = getattr(self._trip, "window", None)
        self._trip.window = None  # answered once
        if read is None or read[:2] != (key, expiry) or isinstance(read[2], Exception):
            return super().get_sliding_window(key, expiry)
        window = read[2]
        # As RedisStorage.get_sliding_window reads its script's answer (TTLs in ms).
        return (int(window[0] or 0), max(0, float(window[1] or 0)) / 1000,
                int(window[2] or 0), max(0, float(window[3] or 0)) / 1000)

    def _acquire_and_read(self, keys: list[str], limit: int, expiry: int, amount: int):
        """Both scripts by hash in one pipeline (a pipeline that runs Script objects asks
        Redis whether they are loaded first: a round trip more). A Redis that lost its
        scripts (restart, SCRIPT FLUSH) refuses the hit unrun: load them and send again."""
        for attempt in range(2):
            pipeline = self.get_connection().pipeline(transaction=False)
            pipeline.evalsha(self.lua_acquire_sliding_window.sha, 2, *keys,
                             limit, expiry, amount)
            pipeline.evalsha(self.lua_sliding_window.sha, 2, *keys, expiry)
            acquired, window = pipeline.execute(raise_on_error=False)
            if not isinstance(acquired, NoScriptError) or attempt:
                break
            for script in (self.lua_acquire_sliding_window, self.lua_sliding_window):
                self.get_connection().script_load(script.script)
        if isinstance(acquired, Exception):
            raise acquired
        return acquired, window  # a failed read (an exception) falls back to its own trip


def rate_limit_storage(uri: str, **options) -> Storage:
    """The storage for a broker URL: ours for plain Redis, the library's for the rest."""
    if uri.startswith(PIPELINED_SCHEMES):
        return OneTripRedisStorage(uri, **options)
    return storage_from_string(uri, **options)
