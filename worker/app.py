"""The Celery entry point: `celery -A worker.app worker -Q cpu` (or gpu), and beat."""

from __future__ import annotations

from shared.queues import make_celery
from shared.settings import Settings
from worker import startup  # noqa: F401  (connects the start-up signals)
from worker.handlers import HANDLERS
from worker.tasks import (
    register_embed_task,
    register_job_task,
    register_sweep_task,
    register_webhook_task,
)

settings = Settings.from_env()
app = make_celery(settings)

for _job_type, _handler in HANDLERS.items():
    register_job_task(app, settings, _job_type, _handler)
sweep_jobs = register_sweep_task(app)
embed_catalog = register_embed_task(app)
deliver_webhook = register_webhook_task(app, settings)
