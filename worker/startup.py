"""Worker start-up: plan in the parent, set up families in each process before its first job.

Celery's signals are process-wide, so `connect` ties them to one WorkerRuntime and acts only
for the app that worker runs. Mind the pool: prefork (and solo) send worker_process_init in
each process that runs tasks; the threads pool never does, so it sets up in the main process
right after planning, before it consumes a message.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from celery.signals import (
    celeryd_after_setup,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_process_init,
)

from shared import logs
from shared.queues import task_name_for
from shared.settings import Settings
from worker.models.sources import ModelLoadError
from worker.runtime import WorkerRuntime

log = logging.getLogger("vitrine.worker")

JOB_TASK_PREFIX = task_name_for("")


def connect(runtime: WorkerRuntime) -> None:
    """Run `runtime`'s planning and set-up from Celery's start-up signals."""

    def configure_logging(**_kwargs) -> None:
        logs.configure(runtime.settings.log_level, runtime.settings.log_format, sys.stderr)

    def bind_task_context(task_id, task, args=(), **_kwargs) -> None:
        """Every log line of a job's task carries its job id and the submitting request's
        id (sent in the task's headers by shared.dispatch)."""
        job_id = args[0] if task.name.startswith(JOB_TASK_PREFIX) and args else None
        contexts[task_id] = logs.bind(request_id=getattr(task.request, "request_id", None),
                                      job_id=job_id)

    def unbind_task_context(task_id, **_kwargs) -> None:
        token = contexts.pop(task_id, None)
        if token is not None:
            logs.unbind(token)

    contexts: dict[str, object] = {}

    def plan(sender, instance, conf, **_kwargs) -> None:
        if instance.app is runtime.celery:
            _plan(runtime, instance)

    def set_up_child(**_kwargs) -> None:
        if runtime.planned is None:
            return  # not the app this worker runs
        try:
            runtime.set_up_process()
        except Exception as exc:
            log.critical("event=model_load_failed pid=%d error=%s", os.getpid(), exc)
            # A child that cannot set up would be respawned forever; stop the whole worker.
            os.kill(os.getppid(), signal.SIGTERM)
            os._exit(1)

    setup_logging.connect(configure_logging, weak=False)
    celeryd_after_setup.connect(plan, weak=False)
    worker_process_init.connect(set_up_child, weak=False)
    task_prerun.connect(bind_task_context, weak=False)
    task_postrun.connect(unbind_task_context, weak=False)


def _plan(runtime: WorkerRuntime, instance) -> None:
    queues = sorted(instance.app.amqp.queues.consume_from)
    forks = _pool_forks(instance)
    # In a threads pool the tasks share one process and one batcher: one torch user.
    concurrency = int(instance.concurrency or 1) if forks else 1
    try:
        runtime.plan(queues, concurrency)
    except ModelLoadError as exc:
        log.critical("event=model_unavailable error=%s", exc)
        # SystemExit passes through Celery's signal dispatch and ends the CLI with status 1.
        raise SystemExit(f"vitrine worker cannot start: {exc}") from None
    if all(source.revision != "hub" for source in runtime.sources.values()):
        # Every model is on disk: never let a library reach for the hub (there is no network).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    log.info("event=worker_planned queues=%s concurrency=%d families=%s models=%s",
             ",".join(queues), concurrency,
             ",".join(f.name for f in runtime.planned) or "none",
             ",".join(f"{k}:{s.name}" for k, s in runtime.sources.items()) or "none")
    _serve_metrics(runtime.settings, forks)
    if forks:
        _warn_batching_without_threads(runtime, queues)
        return
    # No child processes will start, so worker_process_init never comes: set up here.
    try:
        runtime.set_up_process()
    except Exception as exc:
        log.critical("event=model_load_failed pid=%d error=%s", os.getpid(), exc)
        raise SystemExit(f"vitrine worker cannot start: {exc}") from None


def _serve_metrics(settings: Settings, forks: bool) -> None:
    """Prometheus /metrics on VITRINE_METRICS_PORT from this (the main) process."""
    if not settings.metrics_port:
        return
    from prometheus_client import start_http_server

    from shared import metrics

    if forks and metrics.multiprocess_dir() is None:
        log.warning("event=metrics_partial reason=prefork_without_%s: only the main "
                    "process's values are served", metrics.MULTIPROC_ENV)
    metrics.reset_multiprocess_dir()
    start_http_server(settings.metrics_port, registry=metrics.scrape_registry())
    log.info("event=metrics_serving port=%d multiprocess=%s", settings.metrics_port,
             metrics.multiprocess_dir() is not None)


def _warn_batching_without_threads(runtime: WorkerRuntime, queues: list[str]) -> None:
    settings: Settings = runtime.settings
    batching = sorted(t for t, q in settings.routes.items() if q in queues
                      and t in settings.job_types and settings.job_types[t].batches)
    if batching:  # concurrent jobs share forward passes only in one process (-P threads)
        log.info("event=batching_off types=%s pool=prefork", ",".join(batching))


def _pool_forks(instance) -> bool:
    """True for prefork (and solo, which also sends worker_process_init)."""
    pool = instance.pool_cls
    module = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    return not any(name in module for name in ("thread", "gevent", "eventlet"))
