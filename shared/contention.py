"""Telling lock contention from an outage in a database error.

A deadlock or a serialisation failure means the database is up and working (it chose a
victim): the transaction can simply run again. Only what is neither is an outage (or a bug).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

# SQLSTATEs: the transaction lost a race and a fresh attempt will do.
CONFLICT_STATES = {"40P01": "deadlock", "40001": "serialization failure"}
# The database is up but a lock was not granted in time.
BUSY_STATES = {"55P03": "lock not available", "57014": "statement timeout"}
SQLITE_BUSY = ("database is locked", "database table is locked")


def contention(error: BaseException) -> str | None:
    """'conflict' (a deadlock or serialisation failure), 'busy' (a lock wait ran out), or None
    when the error is not contention."""
    if not isinstance(error, DBAPIError):
        return None
    state = getattr(error.orig, "sqlstate", None)
    if state in CONFLICT_STATES:
        return "conflict"
    if state in BUSY_STATES:
        return "busy"
    if isinstance(error, OperationalError) and any(
            text in str(error.orig) for text in SQLITE_BUSY):
        return "busy"
    return None
