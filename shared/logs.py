"""Logging both sides share: the request id on every line, text or JSON by setting.

A request id comes in as `X-Request-Id` (or the API makes one), is stored on the job, travels
in the task's headers, and is bound here (a context variable, so each thread of a threads
pool has its own) while that request or job runs; a filter adds it to every record.
`VITRINE_LOG_FORMAT=json` writes one JSON object per line (python-json-logger).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-Id"
# What a caller may send: what tracing systems use, and nothing that could break a log line.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s%(context)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s"

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "vitrine_log_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: str) -> bool:
    return REQUEST_ID_PATTERN.fullmatch(value) is not None


def current_request_id() -> str | None:
    return (_context.get() or {}).get("request_id")


def bind(**values: str | None) -> contextvars.Token:
    """Add `values` (None drops a key) to what every log line of this context carries."""
    merged = {**(_context.get() or {}), **values}
    return _context.set({k: v for k, v in merged.items() if v is not None})


def unbind(token: contextvars.Token) -> None:
    _context.reset(token)


@contextmanager
def bound(**values: str | None) -> Iterator[None]:
    token = bind(**values)
    try:
        yield
    finally:
        unbind(token)


class ContextFilter(logging.Filter):
    """Puts the bound values on each record: as attributes (JSON keys) and as `context`,
    ` request_id=... job_id=...` appended to text lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = _context.get() or {}
        for key, value in values.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        message = record.getMessage() if values else ""
        record.context = "".join(f" {k}={v}" for k, v in values.items()
                                 if f"{k}=" not in message)
        return True


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level",
                                                         "asctime": "time"},
                             reserved_attrs=[*_RESERVED, "context"])
    return logging.Formatter(TEXT_FORMAT)


_RESERVED = [name for name in logging.LogRecord("", 0, "", 0, "", (), None).__dict__
             if name not in {"message"}] + ["message", "asctime"]


def configure(level: str, log_format: str = "text", stream=None) -> None:
    """One handler on the root logger with the chosen format and the context filter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "vitrine", False)]:
        root.removeHandler(old)
    handler.vitrine = True
    root.addHandler(handler)
    root.setLevel(level)
