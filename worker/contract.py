"""The whole interface between the worker's plumbing and the code that does a job's work.

A handler is a plain function of one `JobContext` (the job's input, its ids, a deadline and
a progress reporter) that returns an `Outcome` or raises one of the errors below. A `Family`
owns the models of some job types (those that name it in shared.job_types): the worker calls
its `setup()` once per process, before that process takes a job, and then asks it for the
handler of each job it runs. Nothing here holds state between jobs; families do, on their
instances.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from shared import lifecycle
from shared.db import Database
from shared.schemas.base import validation_details
from shared.settings import Settings
from worker.models.registry import ModelRegistry
from worker.results import json_problem

Model = TypeVar("Model", bound=BaseModel)


class InvalidJobInput(ValueError):
    """The input passed the schema but cannot be processed; the job fails `invalid_input`."""


class JobTimedOut(RuntimeError):
    """A handler gave up at its deadline (pools without Celery time limits, e.g. threads)."""


class DeadlineExceeded(JobTimedOut):
    """The job could not get its turn on a shared model in time; it fails early with
    `deadline_exceeded` (and the measured throughput) instead of holding a slot."""


class JobCanceled(RuntimeError):
    """The job was canceled while its handler ran (noticed when it reported progress): the
    handler stops, and nothing more is written for this run."""


class QualityCheckFailed(RuntimeError):
    """Every attempt failed a blocking check; `details` (the attempts) is kept as the result."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


@dataclass
class Outcome:
    """What a handler returns: the result document and the model that produced it; or, from
    a step of a multi-step job (shared.job_types.Step), the step to run next and what it
    needs (`step_state`, JSON), with no result yet."""

    result: dict[str, Any] | None
    model_name: str | None = None
    model_revision: str | None = None
    next_step: str | None = None
    step_state: dict[str, Any] | None = None


PROGRESS_INTERVAL_S = 0.25
# A `progress` webhook per database write would be four requests a second per job.
PROGRESS_WEBHOOK_INTERVAL_S = 1.0


class JobContext:
    """One run of one job, as its handler sees it: input, ids, deadline, progress."""

    def __init__(self, *, job_id: uuid.UUID, job_type: str, job_input: dict[str, Any],
                 tenant_id: uuid.UUID | None, db: Database, settings: Settings,
                 soft_limit_s: float, step: str | None = None,
                 step_state: dict[str, Any] | None = None,
                 step_label: str | None = None) -> None:
        self.job_id = job_id
        self.type = job_type
        self.input = job_input
        self.step = step  # None: the first (or only) step
        self.step_state = step_state or {}  # what the step before handed over
        # A multi-step job's progress always says which step it is at.
        self._progress_prefix = {"step": step_label} if step_label else {}
        self.tenant_id = tenant_id
        self.settings = settings
        self.db = db  # for reading the tenant's own data (catalogs, reply settings)
        self.deadline = time.monotonic() + soft_limit_s
        self._last_write = 0.0
        self._last_webhook = 0.0
        self._last_value: dict[str, Any] | None = None

    def seconds_left(self) -> float:
        """Time to the soft limit; a handler past it should raise JobTimedOut."""
        return max(0.0, self.deadline - time.monotonic())

    def report_progress(self, progress: dict[str, Any], *, force: bool = False) -> None:
        """Record progress, at most every PROGRESS_INTERVAL_S, only while still running;
        raises JobCanceled once the job is no longer running (canceled by its client)."""
        progress = {**self._progress_prefix, **progress}
        now = time.monotonic()
        if progress == self._last_value or (not force and now - self._last_write
                                            < PROGRESS_INTERVAL_S):
            return
        if problem := json_problem(progress, "progress"):
            raise ValueError(f"progress is not storable JSON: {problem}")
        self._last_write, self._last_value = now, progress
        with self.db.session() as session:
            running, event = lifecycle.record_progress(
                session, self.job_id, progress,
                event_allowed=now - self._last_webhook >= PROGRESS_WEBHOOK_INTERVAL_S)
        if event:
            self._last_webhook = now
        if not running:
            raise JobCanceled(f"job {self.job_id} is no longer running")


def parse_input(schema: type[Model], job_input: dict[str, Any]) -> Model:
    """Re-validate a stored input; a failure is the job's `invalid_input`, not a crash."""
    try:
        return schema.model_validate(job_input)
    except ValidationError as exc:
        problems = "; ".join(f"{d['path']}: {d['problem']}" for d in validation_details(exc))
        raise InvalidJobInput(problems) from None


Handler = Callable[[JobContext], Outcome]


class Family(Protocol):
    """The models behind some job types, set up once per worker process.

    `name` is what shared.job_types declarations give as `family`; `needs` are the model
    kinds (`embedding`, `generation`) the worker loads before `setup()`; `setup()` takes
    what the family uses from them and prepares everything else it will need (embedded
    taxonomies, classifiers), so that no job pays for it; `handler()` then gives the plain
    function that runs one job of a type.
    """

    name: str
    needs: tuple[str, ...]

    def setup(self, settings: Settings, device: str, models: ModelRegistry) -> None: ...

    def handler(self, job_type: str) -> Handler: ...


def bind(function: Callable[[dict[str, Any], Any, JobContext], Outcome],
         models: Any) -> Handler:
    """A handler that calls `function(job_input, models, context)` with a family's models;
    it keeps the function's name, which failures quote."""

    @wraps(function)
    def handler(context: JobContext) -> Outcome:
        return function(context.input, models, context)

    return handler
