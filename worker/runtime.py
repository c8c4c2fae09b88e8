"""One worker's state: planned in the parent, set up once in each process that runs jobs.

create_worker makes one WorkerRuntime for its Celery app (nothing here is a module global).
The parent decides from the worker's queues which families it serves and which models they
need, resolving where those are without importing torch (safe before a fork); then each
process that runs jobs (each prefork child, or the main process of a threads pool) loads the
models once and sets up those families, before it takes a job.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

from celery import Celery
from threadpoolctl import threadpool_limits

from shared.db import Database, open_database
from shared.queues import EMBEDDINGS_QUEUE
from shared.settings import Settings
from worker.contract import Family, Handler, JobContext, Outcome
from worker.heartbeat import Heartbeat
from worker.models.registry import ModelRegistry, resolve_device, resolve_sources
from worker.models.sources import ModelSource

log = logging.getLogger("vitrine.worker")

# Tasks that are not job types but need a model: catalog embedding has a queue of its own.
QUEUE_TASK_MODELS = {EMBEDDINGS_QUEUE: ("embedding",)}


class WorkerRuntime:
    """The families, models and database of the worker that runs `celery`'s tasks."""

    def __init__(self, settings: Settings, families: Iterable[Family], celery: Celery) -> None:
        self.settings = settings
        self.celery = celery
        self.families = {family.name: family for family in families}
        self.planned: list[Family] | None = None  # None until this app's worker plans
        self.concurrency = 1
        self.sources: dict[str, ModelSource] = {}
        self.models: ModelRegistry | None = None
        self._db: Database | None = None
        self._ready: set[str] = set()  # families set up in this process
        self.queues: list[str] = []
        self.heartbeat: Heartbeat | None = None

    def family_of(self, job_type: str, step: str | None = None) -> Family:
        declared = self.settings.job_types[job_type]
        return self.families[declared.step(step).family if step else declared.family]

    def plan(self, queues: Iterable[str], concurrency: int) -> None:
        """In the parent: the families the queues' job types need, and their models' files."""
        queues = set(queues)
        self.queues = sorted(queues)
        names = {self.settings.job_types[t].family
                 for t, queue in self.settings.routes.items()
                 if queue in queues and t in self.settings.job_types}
        names |= {step.family for t in self.settings.job_types.values() for step in t.steps
                  if step.queue in queues}
        self.planned = [family for name, family in self.families.items() if name in names]
        kinds = [kind for family in self.planned for kind in family.needs]
        kinds += [kind for queue in sorted(queues) for kind in QUEUE_TASK_MODELS.get(queue, ())]
        self.sources = resolve_sources(dict.fromkeys(kinds), self.settings)
        self.concurrency = concurrency

    def set_up_process(self) -> None:
        """Load the models and set up the planned families in this process, once."""
        threads = torch_threads_per_process(self.settings, self.concurrency)
        # numpy's OpenBLAS keeps its own pool, one thread per core, that spins after each
        # call: measured here, the ranker's small mat-vecs burnt 6x their CPU time that way,
        # taken from the API and the other worker processes on the same cores.
        threadpool_limits(limits=threads)
        device = "cpu"
        if self.sources:
            import torch

            torch.set_num_threads(threads)
            device = resolve_device(self.settings.device)
            log.info("event=process_init pid=%d device=%s torch_threads=%d",
                     os.getpid(), device, threads)
        self.models = ModelRegistry.load(self.sources, device, self.settings)
        # A fresh engine in each process: connections must never be shared across a fork.
        self._db = open_database(self.settings, self.celery)
        for family in self.planned or []:
            started = time.perf_counter()
            family.setup(self.settings, device, self.models)
            self._ready.add(family.name)
            log.info("event=family_ready family=%s pid=%d seconds=%.2f", family.name,
                     os.getpid(), time.perf_counter() - started)
        # Alive from now on: a job this process claims is re-run soon after it dies.
        self.heartbeat = Heartbeat(self._db, ",".join(self.queues),
                                   self.settings.heartbeat_interval_s).start()
        log.info("event=process_ready pid=%d queues=%s", os.getpid(), ",".join(self.queues))

    def require_models(self) -> ModelRegistry:
        if self.models is None:
            raise RuntimeError("this process has no models: the worker did not set it up")
        return self.models

    def database(self) -> Database:
        """This process's database (set up with its models); the parent's, made on demand,
        records hard time-outs of the children it killed."""
        if self._db is None:
            self._db = open_database(self.settings, self.celery)
        return self._db

    def handler(self, job_type: str, step: str | None = None) -> Handler:
        """The handler of a job type (or of its later `step`) whose family this process set
        up; otherwise one that fails the job saying so (it reached a worker not meant for
        it). A family that runs a later step is asked for the type's handler too: it knows
        which of its handlers does that step."""
        family = self.family_of(job_type, step)
        if family.name in self._ready:
            return family.handler(job_type)

        def misrouted(context: JobContext) -> Outcome:
            raise RuntimeError(
                f"this worker does not run {family.name} jobs: is {job_type} routed to one of "
                "its queues (VITRINE_QUEUE_ROUTES)?")

        return misrouted


def torch_threads_per_process(settings: Settings, concurrency: int) -> int:
    """Processes x threads must not exceed the cores: oversubscribed, each ran 3-4x slower."""
    if settings.torch_threads > 0:
        return settings.torch_threads
    return max(1, (os.cpu_count() or 1) // max(1, concurrency))
