"""Long-poll: `?wait=N` holds a read until its subject is terminal or N seconds have passed.

A short database poll with growing sleeps (50 ms up to 500 ms), not a pub/sub channel: it
needs nothing from the worker side, costs one indexed read per sleep, and under gunicorn's
gevent workers `time.sleep` is patched, so a waiting request holds a greenlet, not a thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request

from api.errors import ApiError
from api.openapi import query

T = TypeVar("T")

MAX_WAIT_S = 60
FIRST_SLEEP_S, LAST_SLEEP_S = 0.05, 0.5

WAIT_PARAMETER = query("wait", {"type": "number", "minimum": 0, "maximum": MAX_WAIT_S,
                                "description": "Seconds to hold the answer until the "
                                               "subject is terminal (long-poll)."})


def wait_seconds() -> float:
    """The `wait` query parameter (0 when absent), or a 422 naming it."""
    raw = request.args.get("wait")
    if raw is None or raw == "":
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_WAIT_S:  # NaN fails both comparisons
        raise ApiError(422, "validation_error", "query parameter wait is invalid",
                       [{"path": "query:wait",
                         "problem": f"must be a number of seconds from 0 to {MAX_WAIT_S}"}])
    return seconds


def wait_until(read: Callable[[], T], done: Callable[[T], bool], seconds: float) -> T:
    """`read()` again and again until `done` says so or `seconds` have passed; the last read."""
    deadline = time.monotonic() + seconds
    sleep = FIRST_SLEEP_S
    value = read()
    while not done(value):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(sleep, left))
        sleep = min(sleep * 1.5, LAST_SLEEP_S)
        value = read()
    return value


def is_terminal_view(view: dict[str, Any]) -> bool:
    from shared.status import JobStatus

    return JobStatus(view["status"]).is_terminal
