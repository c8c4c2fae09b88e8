"""The real worker app plus the diagnostic job types: `celery -A tests.support.worker_app`."""

from tests.support.diagnostics import DIAGNOSTIC_HANDLERS
from worker.handlers import HANDLERS

HANDLERS.update(DIAGNOSTIC_HANDLERS)

from worker.app import app  # noqa: E402  (tasks are registered from HANDLERS at import)

__all__ = ["app"]
