"""GET /metrics (Prometheus text format, bearer VITRINE_METRICS_TOKEN) and the request
counters and latency histograms every response feeds."""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, g, request

from api.errors import ApiError
from api.openapi import documented
from api.services import get_celery, get_settings
from shared import metrics
from shared.queues import ALL_QUEUES, queue_depths

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@documented("Prometheus metrics of the API processes, and queue depths", answer="metrics",
            public=True, errors=[401, 404], extra_responses={"200": {
                "description": "Prometheus text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}}}})
def prometheus_metrics():
    """Off (404) until VITRINE_METRICS_TOKEN is set; then only with that bearer token, since
    job types, tenants' volumes and queue depths are not public."""
    token = get_settings().metrics_token
    if not token:
        raise ApiError(404, "not_found", "metrics are off: set VITRINE_METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <VITRINE_METRICS_TOKEN>")
    celery = get_celery()
    depth = metrics.queue_depth_gauge(
        lambda: {(queue,): count for queue, count in queue_depths(celery, ALL_QUEUES).items()})
    body, content_type = metrics.exposition([depth])
    return Response(body, content_type=content_type)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    # The route's pattern, never the raw path: ids would make a series per job.
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    metrics.http_requests.labels(route, request.method, str(response.status_code)).inc()
    if started is not None:
        metrics.http_seconds.labels(route, request.method).observe(
            time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_count)
    app.register_blueprint(bp)
