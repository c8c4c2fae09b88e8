"""Job statuses and the only changes between them that are legal."""

from __future__ import annotations

from enum import StrEnum


class IllegalTransition(RuntimeError):
    """A status change the lifecycle forbids (for example, out of a terminal state)."""


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    def can_become(self, target: JobStatus) -> bool:
        return target in _ALLOWED[self]

    def check_transition(self, target: JobStatus) -> None:
        """Raise IllegalTransition unless `self -> target` is allowed."""
        if not self.can_become(target):
            raise IllegalTransition(f"job status cannot change from {self} to {target}")


_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})

_ALLOWED: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


class ErrorCode(StrEnum):
    """Stable codes recorded on failed jobs; clients may branch on them."""

    INVALID_INPUT = "invalid_input"
    MODEL_ERROR = "model_error"
    TIMEOUT = "timeout"
    WORKER_LOST = "worker_lost"
    QUALITY_CHECK_FAILED = "quality_check_failed"


class DeliveryStatus(StrEnum):
    """Where one webhook event stands."""

    PENDING = "pending"        # waiting for its next attempt
    SENDING = "sending"        # an attempt is in flight
    SUCCEEDED = "succeeded"    # the receiver answered 2xx
    FAILED = "failed"          # out of attempts, refused by the SSRF guard, or best effort
    DISABLED = "disabled"      # the URL answered 410 Gone (now or on an earlier event)
