"""The Celery app both sides use: queues, routes, reliability options, task names.

The API enqueues by task *name* through this app and never imports the worker's tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import Celery
from kombu import Queue

if TYPE_CHECKING:  # shared.settings reads the job-type table, which names these queues
    from shared.settings import Settings

CPU_QUEUE = "cpu"
GPU_QUEUE = "gpu"
WEBHOOKS_QUEUE = "webhooks"
# Housekeeping (the sweeper) has a queue of its own so a backlog of model work never delays it.
MAINTENANCE_QUEUE = "maintenance"
# Catalog embedding is bulk work in small chunks on its own lane and workers, so a large
# upload never stands in front of short jobs.
EMBEDDINGS_QUEUE = "embeddings"
# Minutes-long model training has its own lane and worker, so it never delays short jobs.
TRAINING_QUEUE = "training"
ALL_QUEUES = (CPU_QUEUE, GPU_QUEUE, WEBHOOKS_QUEUE, MAINTENANCE_QUEUE, EMBEDDINGS_QUEUE,
              TRAINING_QUEUE)
JOB_QUEUES = (CPU_QUEUE, GPU_QUEUE, TRAINING_QUEUE)

SWEEP_TASK = "vitrine.sweep_jobs"
EMBED_CATALOG_TASK = "vitrine.embed_catalog"
DELIVER_WEBHOOK_TASK = "vitrine.deliver_webhook"

# API priority is 0 (lowest) .. 9 (most urgent); Redis serves priority 0 first, so we invert.
PRIORITY_LEVELS = 10


def task_name_for(job_type: str, step: str | None = None) -> str:
    """Every job type runs as the task `vitrine.run.<type>`; a later step of a multi-step
    type as `vitrine.run.<type>.<step>`."""
    return f"vitrine.run.{job_type}" + (f".{step}" if step else "")


def broker_priority(api_priority: int) -> int:
    return PRIORITY_LEVELS - 1 - api_priority


def make_celery(settings: Settings, *, name: str = "vitrine") -> Celery:
    """A Celery app for `settings`; the database, not a result backend, holds outcomes."""
    app = Celery(name, broker=settings.broker_url, set_as_current=False)
    longest_hard_limit = max(
        [settings.default_hard_time_limit_s, *(settings.time_limits_for(t)[1]
                                               for t in settings.routes)]
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_queues=[Queue(q, routing_key=q) for q in ALL_QUEUES],
        task_default_queue=CPU_QUEUE,
        task_routes={
            **{task_name_for(t): {"queue": q} for t, q in settings.routes.items()},
            **{task_name_for(t.name, step.name): {"queue": step.queue}
               for t in settings.job_types.values() for step in t.steps},
            SWEEP_TASK: {"queue": MAINTENANCE_QUEUE},
            EMBED_CATALOG_TASK: {"queue": EMBEDDINGS_QUEUE},
            # Never on a gpu worker: a slow receiver must not hold a model.
            DELIVER_WEBHOOK_TASK: {"queue": WEBHOOKS_QUEUE},
        },
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # An unacked message returns to the queue after this long; keep it well above
            # every hard time limit or a slow job would be delivered twice while it runs.
            "visibility_timeout": max(3600, int(longest_hard_limit * 4)),
            "priority_steps": list(range(PRIORITY_LEVELS)),
            "sep": ":",
            "queue_order_strategy": "priority",
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        },
        # The API must answer quickly when Redis is down: the job row is already committed
        # and the sweeper sends it later, so one quick retry is enough.
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2,
        },
        beat_schedule={
            # A sweep that waited longer than one interval is stale: the next one is coming.
            "sweep-jobs": {"task": SWEEP_TASK, "schedule": settings.sweep_interval_s,
                           "options": {"expires": settings.sweep_interval_s}},
        },
        worker_hijack_root_logger=False,
        # A child loads its models in worker_process_init before it reports up; Celery's 4 s
        # default kills a replacement child mid-load, over and over.
        worker_proc_alive_timeout=600,
    )
    return app


def queue_depths(celery: Celery, queues: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting in each queue, all priority levels together (raises if the broker
    is down)."""
    depths = {}
    with celery.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in queues:
            # Not passive: a queue Redis has forgotten (restart) is simply empty.
            depths[queue] = channel.queue_declare(queue=queue).message_count
    return depths
