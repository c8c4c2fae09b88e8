"""Write transactions that survive contention: deadlocks, serialisation failures and busy
SQLite files are retried a few times, then answered with a code that says what happened
(api.errors: 409 `concurrent_update`, 503 `database_busy`), never "database unavailable"
while the database is up.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from api.services import get_db
from shared.contention import contention

log = logging.getLogger("vitrine.api")

T = TypeVar("T")
ATTEMPTS = 4
_BACKOFF_S = 0.02  # doubled per attempt, with full jitter: 0-20 ms, 0-40 ms, 0-80 ms


def in_transaction(work: Callable[[Session], T], *, retry_duplicates: bool = False) -> T:
    """Run `work(session)` in a transaction, again from the start when it lost a race.

    `retry_duplicates`: a unique violation means another request inserted the same row at
    the same time (an upsert's get-or-create), so a fresh attempt finds and updates it.
    `work` must have no effects outside the database: it may run up to ATTEMPTS times.
    """
    db = get_db()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with db.session() as session:
                return work(session)
        except (OperationalError, IntegrityError) as error:
            kind = contention(error)
            if kind is None and retry_duplicates and isinstance(error, IntegrityError):
                kind = "duplicate"
            if kind is None or attempt == ATTEMPTS:
                raise
            log.info("event=transaction_retry kind=%s attempt=%d", kind, attempt)
            time.sleep(random.uniform(0, _BACKOFF_S * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")
