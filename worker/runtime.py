"""Per-process worker state, filled once by the start-up signals and read by tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.db import Database
from shared.settings import Settings
from worker.models.registry import ModelRegistry
from worker.models.sources import ModelSource


@dataclass
class WorkerPlan:
    """Decided in the parent before the pool forks: what each child must load."""

    queues: list[str] = field(default_factory=list)
    celery: Any = None  # the worker's Celery app: what committed webhook events are sent with
    concurrency: int = 1
    sources: dict[str, ModelSource] = field(default_factory=dict)


@dataclass
class WorkerRuntime:
    settings: Settings
    db: Database
    registry: ModelRegistry


_plan = WorkerPlan()
_runtime: WorkerRuntime | None = None


def plan() -> WorkerPlan:
    return _plan


def install(runtime: WorkerRuntime) -> None:
    global _runtime
    _runtime = runtime


def current() -> WorkerRuntime:
    """The runtime of this process; tasks only run after worker_process_init filled it."""
    if _runtime is None:
        raise RuntimeError("worker runtime is not initialised (worker_process_init did not run)")
    return _runtime
