"""The thin Flask API: validates and records jobs, then enqueues them by task name.

Never imports worker/ or torch, so the API runs in a small image.
"""

from __future__ import annotations

import logging

from flask import Flask

from api import (
    auth,
    catalogs,
    cli,
    deliveries,
    errors,
    guards,
    health,
    jobs,
    openapi,
    webhooks,
)
from api import settings as tenant_settings
from shared.db import open_database
from shared.queues import make_celery
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; tests pass their own Settings, gunicorn uses the environment."""
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level)

    app = Flask("vitrine")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.extensions["vitrine.settings"] = settings
    celery = make_celery(settings)
    # A cancel is a terminal change: its `completed` webhook goes out once it is committed.
    db = open_database(settings, celery)
    app.extensions["vitrine.db"] = db
    app.extensions["vitrine.celery"] = celery
    app.extensions["vitrine.key_cache"] = auth.KeyCache()

    guards.init_app(app)  # before the blueprints' own hooks (authentication)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(deliveries.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(catalogs.bp)
    app.register_blueprint(tenant_settings.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    errors.init_app(app)
    cli.init_app(app)
    return app
