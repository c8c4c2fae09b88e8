"""The Celery entry point: `celery -A worker.app worker -Q cpu` (or gpu)."""

from __future__ import annotations

from worker.factory import create_worker

app = create_worker()
