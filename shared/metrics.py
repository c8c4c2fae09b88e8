"""Prometheus metrics both sides record, and their exposition.

Under gunicorn and Celery's prefork pool each process counts on its own; with
PROMETHEUS_MULTIPROC_DIR set (before this module is imported: prometheus-client picks its
storage at import) every process writes its values there and the one endpoint adds them up.
The API serves them at /metrics (bearer VITRINE_METRICS_TOKEN); a worker on
VITRINE_METRICS_PORT from its main process. README "Metrics" lists the series.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):  # metrics without labels write their file right below
    Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)
# Seconds: from a web request to a 6-minute generation job.
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

http_requests = Counter("vitrine_http_requests_total", "HTTP requests answered",
                        ["route", "method", "status"])
http_seconds = Histogram("vitrine_http_request_seconds", "Time to answer an HTTP request",
                         ["route", "method"], buckets=_LATENCY)
jobs_submitted = Counter("vitrine_jobs_submitted_total", "Jobs accepted by the API", ["type"])
jobs_finished = Counter("vitrine_jobs_finished_total", "Jobs that reached a terminal status "
                        "in a worker", ["type", "status", "error_code"])
job_queue_wait = Histogram("vitrine_job_queue_wait_seconds", "Submission to start of the run",
                           ["type"], buckets=_LATENCY)
job_run = Histogram("vitrine_job_run_seconds", "Start to end of the run", ["type"],
                    buckets=_LATENCY)
job_latency = Histogram("vitrine_job_latency_seconds", "Submission to terminal status (what "
                        "a client waits, e.g. for a recommendation)", ["type"],
                        buckets=_LATENCY)
generation_tokens_per_s = Histogram(
    "vitrine_generation_tokens_per_second", "New tokens per second of one generated text",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000))
generation_batch_size = Histogram(
    "vitrine_generation_batch_size", "Rows decoded together when a text finished",
    buckets=(1, 2, 4, 8, 16, 32, 64))
webhook_attempts = Counter("vitrine_webhook_attempts_total", "Webhook delivery attempts",
                           ["outcome"])


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def reset_multiprocess_dir() -> None:
    """At start, in the parent before it forks: drop the files of a previous run's processes
    (they would count again). This process's own files stay: metrics without labels made
    theirs when this module was imported."""
    directory = multiprocess_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        if path.stem.rsplit("_", 1)[-1] != str(os.getpid()):
            path.unlink(missing_ok=True)


def process_exited(pid: int) -> None:
    """Called by the parent when a child exits (gunicorn's child_exit)."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class _Gauges:
    """Values read at scrape time (queue depths): `read()` -> {labels tuple: value}."""

    def __init__(self, name: str, documentation: str, labels: list[str],
                 read: Callable[[], dict[tuple[str, ...], float]]) -> None:
        self.name, self.documentation, self.labels, self.read = name, documentation, labels, read

    def collect(self):
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        try:
            for labels, value in self.read().items():
                family.add_metric(list(labels), value)
        except Exception as exc:  # a scrape must not fail because the broker is down
            log.warning("event=metric_unreadable name=%s error=%r", self.name, exc)
        yield family


def scrape_registry(extra: list[object] = ()) -> CollectorRegistry:
    """The registry to expose: every process's values (multiprocess) or this one's."""
    if multiprocess_dir() is None and not extra:
        return REGISTRY
    if multiprocess_dir() is None:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    else:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    for collector in extra:
        registry.register(collector)
    return registry


class _Forward:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()


def exposition(extra: list[object] = ()) -> tuple[bytes, str]:
    """(body, content type) of the text exposition format."""
    return generate_latest(scrape_registry(extra)), CONTENT_TYPE_LATEST


def queue_depth_gauge(read: Callable[[], dict[tuple[str, ...], float]]) -> _Gauges:
    return _Gauges("vitrine_queue_depth", "Messages waiting in each Celery queue", ["queue"],
                   read)
