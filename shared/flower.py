"""The Celery app Flower watches, with Flower's /metrics behind the same basic auth as its pages.

    FLOWER_BASIC_AUTH=user:password celery -A shared.flower flower --address=127.0.0.1

Flower reads FLOWER_* variables itself, so the password never appears on a command line
(where `ps` shows it to every user). Flower 2.x serves /metrics to anyone, whatever the auth
settings: the task names, worker names and queue depths it lists are not public, so the
handler is wrapped in tornado's `authenticated` here, before Flower starts.
"""

from __future__ import annotations

from shared.beat import app


def require_auth_for_metrics() -> None:
    """Make Flower's /metrics check the configured basic auth like every other page."""
    try:
        import tornado.web
        from flower.views import monitor
    except ImportError:  # an image without Flower: nothing to protect
        return
    get = monitor.Metrics.get
    if not getattr(get, "vitrine_requires_auth", False):
        guarded = tornado.web.authenticated(get)
        guarded.vitrine_requires_auth = True
        monitor.Metrics.get = guarded


require_auth_for_metrics()

__all__ = ["app"]
