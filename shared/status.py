"""Job and webhook delivery statuses, and the only changes between them that are legal."""

from __future__ import annotations

from enum import StrEnum


class IllegalTransition(RuntimeError):
    """A status change the lifecycle forbids (for example, out of a terminal state)."""


class _StateMachine:
    """Legal moves for a status enum, from the table `_MOVES` below (keyed by the enum)."""

    def can_become(self, target) -> bool:
        return target in _MOVES[type(self)][self]

    def check_transition(self, target) -> None:
        """Raise IllegalTransition unless `self -> target` is allowed."""
        if not self.can_become(target):
            noun = "job" if isinstance(self, JobStatus) else "delivery"
            raise IllegalTransition(f"{noun} status cannot change from {self} to {target}")


class JobStatus(_StateMachine, StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


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
    # Could not get its turn on a shared model before its time limit: a queue, not a fault.
    DEADLINE_EXCEEDED = "deadline_exceeded"


class DeliveryStatus(_StateMachine, StrEnum):
    """Where one webhook event stands: pending -> sending -> succeeded | failed | disabled."""

    PENDING = "pending"        # waiting for its next attempt
    SENDING = "sending"        # an attempt is in flight
    SUCCEEDED = "succeeded"    # the receiver answered 2xx
    FAILED = "failed"          # out of attempts, refused by the SSRF guard, or best effort
    DISABLED = "disabled"      # the URL answered 410 Gone (now or on an earlier event)


_MOVES: dict[type, dict] = {
    JobStatus: _ALLOWED,
    DeliveryStatus: {
        # Claimed by a sender; or its URL was disabled while it waited; or a client asked for
        # it again (POST .../retry: due now).
        DeliveryStatus.PENDING: frozenset({DeliveryStatus.SENDING, DeliveryStatus.DISABLED,
                                           DeliveryStatus.PENDING}),
        # The attempt's outcome; pending again to retry later, or when the sweeper finds its
        # sender dead.
        DeliveryStatus.SENDING: frozenset({DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED,
                                           DeliveryStatus.DISABLED, DeliveryStatus.PENDING}),
        # Only a client's retry reopens a finished delivery; nothing moves it on its own.
        **{finished: frozenset({DeliveryStatus.PENDING}) for finished in (
            DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.DISABLED)},
    },
}
