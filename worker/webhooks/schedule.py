"""When a failed `completed` event is tried again."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

JITTER = 0.2  # +-20%, so receivers that went down together are not hit in lockstep


def next_delay_s(attempts_made: int, delays_s: list[float], rng: random.Random | None = None
                 ) -> float:
    """Seconds to wait after the `attempts_made`-th failed attempt; the last delay repeats."""
    base = delays_s[min(attempts_made, len(delays_s)) - 1]
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def gives_up(event_at: datetime, now: datetime, window_s: float) -> bool:
    """True once an attempt has failed at least `window_s` after the event."""
    return now - event_at >= timedelta(seconds=window_s)
