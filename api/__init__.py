"""The thin Flask API: validates and records jobs, then enqueues them by task name.

Never imports worker/ or torch, so the API runs in a small image.
"""

from __future__ import annotations

from flask import Flask

from api import (
    auth,
    cli,
    errors,
    guards,
    health,
    metrics,
    openapi,
    request_ids,
    services,
    v1,
)
from api.lane_facts import LaneFacts
from shared import logs
from shared.db import open_database
from shared.queues import make_celery
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; tests pass their own Settings, gunicorn uses the environment."""
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)

    app = Flask("vitrine")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    celery = make_celery(settings)
    services.init_app(app, services.ApiServices(
        settings=settings, db=open_database(settings, celery), celery=celery,
        key_cache=auth.KeyCache(), lane_facts=LaneFacts(settings)))

    request_ids.init_app(app)  # first: every response, refused ones too, carries an id
    guards.init_app(app)  # before /v1's own hook (authentication)
    app.register_blueprint(v1.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    metrics.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
