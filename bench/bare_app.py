"""The floor for bench/api.py: a Flask route that only inserts a job row and enqueues it.

No authentication, no validation, no idempotency: what the real API costs on top of this is
what the benchmark's ratio shows. Served by the same gunicorn settings as the real API.
"""

from __future__ import annotations

import os
import uuid

from flask import Flask, request

from shared.db import Database
from shared.models import Job, utcnow
from shared.queues import make_celery, task_name_for
from shared.settings import Settings

settings = Settings.from_env()
database = Database(settings.database_url)
celery = make_celery(settings)
tenant_id = uuid.UUID(os.environ["BENCH_TENANT_ID"])
app = Flask("bare")


@app.post("/bare/jobs")
def insert_and_enqueue():
    body = request.get_json()
    now = utcnow()
    job = Job(id=uuid.uuid4(), tenant_id=tenant_id, type=body["type"], input=body["input"],
              status="queued", priority=5, attempts=0, created_at=now, enqueued_at=now)
    with database.session() as session:
        session.add(job)
    celery.send_task(task_name_for(job.type), args=[str(job.id)], queue="cpu")
    return {"id": str(job.id), "status": "queued"}, 202
