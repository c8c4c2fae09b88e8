"""/healthz (the process answers) and /readyz (database and broker both reachable)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from api.openapi import documented
from api.services import get_celery, get_db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@documented("Process is up", answer="up", public=True)
def healthz():
    return {"status": "ok"}


def _check_database() -> str | None:
    try:
        with get_db().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _check_broker() -> str | None:
    try:
        with get_celery().connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@bp.get("/readyz")
@documented("Database and broker reachable", answer="ready", public=True,
            extra_responses={"503": {"description": "which check failed"}})
def readyz():
    checks = {"database": _check_database(), "broker": _check_broker()}
    failed = {name: problem for name, problem in checks.items() if problem}
    body = {
        "status": "ready" if not failed else "unavailable",
        "checks": {name: "failed" if problem else "ok" for name, problem in checks.items()},
        "failed": failed,
    }
    return body, 200 if not failed else 503
