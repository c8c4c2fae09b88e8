"""Typed errors from the API's error envelope `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

import httpx


class VitrineError(Exception):
    """Anything the API refused or could not do; `code` is the API's stable error code."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code
        self.details = details or []
        self.headers = headers or {}

    def __str__(self) -> str:
        where = "; ".join(f"{d.get('path')}: {d.get('problem')}" for d in self.details[:5])
        head = f"{self.status} {self.code}: {self.message}" if self.status else self.message
        return f"{head} ({where})" if where else head


class ConnectionFailed(VitrineError):
    """No answer from the API (after the retries)."""


class WaitTimeout(VitrineError):
    """The job or batch did not end within the time given to `wait`."""


class BadRequest(VitrineError):
    """400: malformed JSON, nesting too deep, a key in the query string."""


class AuthenticationError(VitrineError):
    """401: missing, unknown or revoked API key."""


class NotFound(VitrineError):
    """404: no such job or batch for this tenant."""


class Conflict(VitrineError):
    """409: a finished job, an Idempotency-Key reused with another body, ..."""


class PayloadTooLarge(VitrineError):
    """413: the body is over the server's limit."""


class ValidationError(VitrineError):
    """422: `details` name each problem's path."""


class RateLimited(VitrineError):
    """429: slow down (see `headers['retry-after']`)."""


class ServiceUnavailable(VitrineError):
    """503: the database or broker is down or busy."""


class ServerError(VitrineError):
    """Any other 5xx."""


_BY_STATUS = {400: BadRequest, 401: AuthenticationError, 404: NotFound, 409: Conflict,
              413: PayloadTooLarge, 422: ValidationError, 429: RateLimited,
              503: ServiceUnavailable}


def error_from(response: httpx.Response) -> VitrineError:
    """The typed error for a non-2xx answer (its envelope, or the raw text if none)."""
    try:
        envelope = response.json()["error"]
        message, code = envelope["message"], envelope["code"]
        details = envelope.get("details") or []
    except (ValueError, KeyError, TypeError):
        message, code, details = response.text[:500] or response.reason_phrase, None, []
    kind = _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = ServerError if response.status_code >= 500 else VitrineError
    return kind(message, status=response.status_code, code=code, details=details,
                headers=dict(response.headers))
