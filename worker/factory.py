"""create_worker: the Celery app a worker runs, for a set of job types and their families."""

from __future__ import annotations

from collections.abc import Iterable

from celery import Celery

from shared.queues import make_celery
from shared.settings import Settings, SettingsError
from worker import startup
from worker.contract import Family
from worker.generation.family import GenerationFamily
from worker.personalised.family import PersonalisedRankingFamily
from worker.profiling.family import ProfilingFamily
from worker.recommendation.family import RecommendationFamily, TrainingFamily
from worker.runtime import WorkerRuntime
from worker.tasks import (
    register_embed_task,
    register_job_task,
    register_sweep_task,
    register_webhook_task,
)


def default_families() -> list[Family]:
    """The families of the built-in job types (they load nothing until set up)."""
    return [ProfilingFamily(), RecommendationFamily(), GenerationFamily(),
            PersonalisedRankingFamily(), TrainingFamily()]


def create_worker(settings: Settings | None = None,
                  families: Iterable[Family] | None = None) -> Celery:
    """A Celery app with one task per job type in `settings.job_types`, each run by the
    family the type names; tests pass their own job types and families."""
    settings = settings or Settings.from_env()
    families = default_families() if families is None else list(families)
    app = make_celery(settings)
    runtime = WorkerRuntime(settings, families, app)
    orphans = sorted(f"{t.name} ({family})" for t in settings.job_types.values()
                     for family in (t.family, *(s.family for s in t.steps))
                     if family not in runtime.families)
    if orphans:
        raise SettingsError(f"no family runs the job types {', '.join(orphans)}")
    startup.connect(runtime)
    for job_type in settings.job_types.values():
        register_job_task(app, runtime, job_type)
        for step in job_type.steps:
            register_job_task(app, runtime, job_type, step.name)
    register_sweep_task(app, runtime)
    register_embed_task(app, runtime)
    register_webhook_task(app, runtime)
    return app
