"""The rate limit's hit and window read in one round trip (api.sliding_window): the same
answers as the `limits` library's own storage, hit by hit and across windows, on a real
Redis; one round trip per submission; a Redis that lost its scripts still counts; an
unreachable one leaves submissions unlimited, as before."""

from __future__ import annotations

import time
import uuid
from contextlib import nullcontext

import pytest
import redis
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from api.limits import SubmissionLimiter
from api.sliding_window import OneTripRedisStorage, rate_limit_storage
from shared.settings import Settings
from shared.tenant_limits import EffectiveLimits


@pytest.fixture
def url(redis_server) -> str:
    """A Redis database no stack of the session uses for its rate limits."""
    return f"redis://127.0.0.1:{redis_server.port}/10"


def _hit_and_read(limiter, item, key) -> tuple[bool, int]:
    """As SubmissionLimiter.take does, within one_trip when the storage has it."""
    storage = limiter.storage
    with storage.one_trip() if isinstance(storage, OneTripRedisStorage) else nullcontext():
        allowed = limiter.hit(item, "submissions", key)
        stats = limiter.get_window_stats(item, "submissions", key)
    assert time.time() - 0.01 <= stats.reset_time <= time.time() + item.get_expiry()
    return allowed, stats.remaining


def test_answers_as_the_librarys_storage_does_across_windows(url):
    assert isinstance(rate_limit_storage(url), OneTripRedisStorage)
    one_trip = SlidingWindowCounterRateLimiter(rate_limit_storage(url))
    library = SlidingWindowCounterRateLimiter(storage_from_string(url))
    item = RateLimitItemPerSecond(5, 1)
    ours, theirs = str(uuid.uuid4()), str(uuid.uuid4())

    def both(hits: int) -> list[tuple]:
        return [(_hit_and_read(one_trip, item, ours), _hit_and_read(library, item, theirs))
                for _ in range(hits)]

    first = both(7)
    assert [a for a, _ in first] == [(True, 4), (True, 3), (True, 2), (True, 1),
                                     (True, 0), (False, 0), (False, 0)]
    time.sleep(1.2)  # into the next window: the last one's count weighs in, less and less
    later = both(3) + [time.sleep(0.4) or pair for pair in both(3)]
    answers = first + later
    assert [a for a, _ in answers] == [b for _, b in answers]
    assert any(allowed for (allowed, _), _ in later)


def test_a_hit_and_its_read_are_one_round_trip_within_one_trip_only(url, monkeypatch):
    storage = rate_limit_storage(url)
    limiter = SlidingWindowCounterRateLimiter(storage)
    item = RateLimitItemPerSecond(100, 10)
    key = str(uuid.uuid4())
    _hit_and_read(limiter, item, "warm")  # connects
    sent = []
    real_send = redis.connection.Connection.send_packed_command

    def counting(connection, command, *args, **kwargs):
        sent.append(command)
        return real_send(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    with storage.one_trip():
        assert limiter.hit(item, "submissions", key)
        assert limiter.get_window_stats(item, "submissions", key).remaining == 99
        assert len(sent) == 1
        assert limiter.get_window_stats(item, "submissions", key).remaining == 99
        assert len(sent) == 2  # the window the hit read answers once
    assert limiter.hit(item, "submissions", key)
    assert limiter.get_window_stats(item, "submissions", key).remaining == 98
    assert len(sent) == 4  # outside: the library's storage, two trips


def test_a_read_of_another_key_is_not_answered_by_the_hits(url):
    storage = rate_limit_storage(url)
    limiter = SlidingWindowCounterRateLimiter(storage)
    item = RateLimitItemPerSecond(10, 10)
    busy, idle = str(uuid.uuid4()), str(uuid.uuid4())
    with storage.one_trip():
        limiter.hit(item, "submissions", busy)
        assert limiter.get_window_stats(item, "submissions", idle).remaining == 10


def test_a_redis_that_lost_its_scripts_still_counts_each_hit_once(url):
    limiter = SlidingWindowCounterRateLimiter(rate_limit_storage(url))
    item = RateLimitItemPerSecond(10, 10)
    key = str(uuid.uuid4())
    assert _hit_and_read(limiter, item, key) == (True, 9)
    redis.Redis.from_url(url).script_flush()  # as after a restart without persistence
    assert _hit_and_read(limiter, item, key) == (True, 8)


def test_an_unreachable_redis_leaves_submissions_unlimited():
    settings = Settings.from_env({}, broker_url="redis://127.0.0.1:1/0")
    limiter = SubmissionLimiter(settings)
    limits = EffectiveLimits(submit_rate=1, submit_burst=1, max_active_jobs=10,
                             max_priority=9)
    assert limiter.take(uuid.uuid4(), limits) == {}
