"""What the API's routes share, made once by create_app, and one typed accessor for each.

Routes call `get_db()`, `get_settings()`, ... instead of looking up strings in
`current_app.extensions`; the services live there under one key, as one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from celery import Celery
from flask import Flask, current_app

from shared.db import Database
from shared.job_types import JobTypes
from shared.settings import Settings

if TYPE_CHECKING:  # api.auth reads the services to authenticate
    from api.auth import KeyCache
    from api.lane_facts import LaneFacts

_KEY = "vitrine"


@dataclass(frozen=True)
class ApiServices:
    settings: Settings
    db: Database  # with the outbox hook: a cancel's `completed` event goes out on commit
    celery: Celery  # sends by task name; the API never imports the worker
    key_cache: KeyCache
    lane_facts: LaneFacts  # caps and throughputs a submission reads, once a second


def init_app(app: Flask, services: ApiServices) -> None:
    app.extensions[_KEY] = services


def services_of(app) -> ApiServices | None:
    """The services of a Vitrine app, or None for any other WSGI app (gunicorn's hooks)."""
    return getattr(app, "extensions", {}).get(_KEY)


def _current() -> ApiServices:
    return current_app.extensions[_KEY]


def get_settings() -> Settings:
    return _current().settings


def get_db() -> Database:
    return _current().db


def get_celery() -> Celery:
    return _current().celery


def get_key_cache() -> KeyCache:
    return _current().key_cache


def get_lane_facts() -> LaneFacts:
    return _current().lane_facts


def get_job_types() -> JobTypes:
    return _current().settings.job_types
