"""The test worker app plus the poison job type: `celery -A tests.support.poison_worker`."""

from tests.support.poison import return_poison
from worker.handlers import HANDLERS

HANDLERS["diag_poison"] = return_poison

from tests.support.worker_app import app  # noqa: E402  (registers tasks from HANDLERS)

__all__ = ["app"]
