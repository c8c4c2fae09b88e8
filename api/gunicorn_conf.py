"""gunicorn settings for the API: `gunicorn -c python:api.gunicorn_conf api.wsgi:app`.

Flags on the command line win (scripts/up and compose add `--bind`). Gevent workers, so
that reading a request never holds an app thread: with 2 x 8 threads, 24 clients trickling
their bodies once stalled every other request (/healthz timed out); a greenlet per
connection costs kilobytes, and 200 slow clients leave /healthz answering in milliseconds.
"""

from __future__ import annotations

import os

worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = 1000  # open connections per worker process, slow or not
# With gevent workers this is also the time a client has to send a request's line and
# headers (gunicorn wraps the read in a gevent.Timeout of this many seconds).
keepalive = 5
timeout = 30  # a worker whose loop is blocked this long is restarted
graceful_timeout = 20
backlog = 2048
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
logger_class = "api.front.RedactingLogger"
# gunicorn 27's control socket lives at one path per user: a second server (tests, benchmarks,
# another checkout) would take it over. Nothing here uses it.
control_socket_disable = True


def on_starting(server) -> None:
    """Multiprocess metrics: drop the files of a previous run's workers."""
    from shared.metrics import reset_multiprocess_dir

    reset_multiprocess_dir()


def child_exit(server, worker) -> None:
    from shared.metrics import process_exited

    process_exited(worker.pid)


def post_worker_init(worker) -> None:
    """Read each body within VITRINE_BODY_TIMEOUT_S before the app sees it (408 otherwise)."""
    from api.front import BodyDeadline
    from api.services import services_of

    services = services_of(worker.wsgi)
    if services is None:  # not the Vitrine app (bench/bare_app.py shares these settings)
        return
    settings = services.settings
    worker.wsgi = BodyDeadline(worker.wsgi, seconds=settings.body_timeout_s,
                               limit=settings.max_body_bytes)
