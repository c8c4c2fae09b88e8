"""Worker start-up: plan models in the parent, load them once in each child process.

The parent only resolves where the models are (no torch, no CUDA), so a bad setting stops
the worker before it forks; each child then loads the weights in worker_process_init.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from celery.signals import celeryd_after_setup, setup_logging, worker_process_init
from threadpoolctl import threadpool_limits

from shared.db import open_database
from shared.settings import Settings
from worker import runtime
from worker.models.registry import ModelRegistry, models_for_queues, resolve_device, resolve_sources
from worker.models.sources import ModelLoadError

log = logging.getLogger("vitrine.worker")

LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s"


@setup_logging.connect
def _configure_logging(loglevel=None, **_kwargs) -> None:
    logging.basicConfig(level=Settings.from_env().log_level, format=LOG_FORMAT, stream=sys.stderr)


@celeryd_after_setup.connect
def _plan_models(sender, instance, conf, **_kwargs) -> None:
    settings = Settings.from_env()
    queues = sorted(instance.app.amqp.queues.consume_from)
    plan = runtime.plan()
    plan.queues = queues
    plan.celery = instance.app
    forks = _pool_forks(instance)
    # In a threads pool the tasks share one process and one batcher: one torch user.
    plan.concurrency = int(instance.concurrency or 1) if forks else 1
    try:
        plan.sources = resolve_sources(models_for_queues(queues), settings)
    except ModelLoadError as exc:
        log.critical("event=model_unavailable error=%s", exc)
        # SystemExit passes through Celery's signal dispatch and ends the CLI with status 1.
        raise SystemExit(f"vitrine worker cannot start: {exc}") from None
    if all(source.revision != "hub" for source in plan.sources.values()):
        # Every model is on disk: never let a library reach for the hub (there is no network).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    log.info("event=worker_planned queues=%s concurrency=%d models=%s",
             ",".join(queues), plan.concurrency,
             ",".join(f"{k}:{s.name}" for k, s in plan.sources.items()) or "none")
    if not forks:
        # No child processes will start, so worker_process_init never comes: load here.
        try:
            _load_into_this_process(settings)
        except Exception as exc:
            log.critical("event=model_load_failed pid=%d error=%s", os.getpid(), exc)
            raise SystemExit(f"vitrine worker cannot start: {exc}") from None


def _pool_forks(instance) -> bool:
    """True for prefork (and solo, which also sends worker_process_init)."""
    pool = instance.pool_cls
    module = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    return not any(name in module for name in ("thread", "gevent", "eventlet"))


def torch_threads_per_process(settings: Settings, concurrency: int) -> int:
    """Processes x threads must not exceed the cores: oversubscribed, each ran 3-4x slower."""
    if settings.torch_threads > 0:
        return settings.torch_threads
    return max(1, (os.cpu_count() or 1) // max(1, concurrency))


def _load_into_this_process(settings: Settings) -> None:
    plan = runtime.plan()
    device = "cpu"
    threads = torch_threads_per_process(settings, plan.concurrency)
    # numpy's OpenBLAS keeps its own pool, one thread per core, that spins after each call:
    # measured here, the ranker's small mat-vecs burnt 6x their CPU time that way, taken
    # from the API and the other worker processes on the same cores.
    threadpool_limits(limits=threads)
    if plan.sources:
        import torch

        torch.set_num_threads(threads)
        device = resolve_device(settings.device)
        log.info("event=process_init pid=%d device=%s torch_threads=%d",
                 os.getpid(), device, threads)
    registry = ModelRegistry.load(plan.sources, device, settings)
    # A fresh engine in each process: connections must never be shared across a fork.
    db = open_database(settings, plan.celery)
    runtime.install(runtime.WorkerRuntime(settings=settings, db=db, registry=registry))


@worker_process_init.connect
def _load_models(**_kwargs) -> None:
    try:
        _load_into_this_process(Settings.from_env())
    except Exception as exc:
        log.critical("event=model_load_failed pid=%d error=%s", os.getpid(), exc)
        # A child that cannot load would be respawned forever; stop the whole worker instead.
        os.kill(os.getppid(), signal.SIGTERM)
        os._exit(1)
