"""The job lifecycle inside a worker: claim, run the model code, record one outcome.

Every write is a conditional UPDATE, so a job delivered twice runs at most once to a terminal
state, a canceled job's late result is discarded, and a job is never left `running`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

from shared import heartbeats, lifecycle, logs
from shared.contention import contention
from shared.db import Database
from shared.dispatch import send_job
from shared.lifecycle import LostRun
from shared.models import Job, utcnow
from shared.settings import Settings
from shared.status import ErrorCode, JobStatus
from worker.contract import (
    DeadlineExceeded,
    Handler,
    InvalidJobInput,
    JobCanceled,
    JobContext,
    JobTimedOut,
    Outcome,
    QualityCheckFailed,
)
from worker.results import json_problem, printable_message

log = logging.getLogger("vitrine.runner")


@dataclass(frozen=True)
class _Claim:
    job_id: uuid.UUID
    job_input: dict[str, Any]
    attempts: int
    tenant_id: uuid.UUID | None = None
    priority: int = 5
    step: str | None = None  # None: the first step
    step_state: dict[str, Any] | None = None
    job_type: str = ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    """Runs one delivery of one job; see the module docstring for the guarantees."""

    def __init__(self, *, db: Database, settings: Settings,
                 celery: Celery | None = None) -> None:
        self.db = db
        self.settings = settings
        self.celery = celery  # sends a multi-step job's next step; None: the sweeper will
        # (error code, message) of the failure this run recorded, for the task's own state.
        self.failure: tuple[str, str] | None = None
        self.host = socket.gethostname()
        self.pid = os.getpid()

    def run(self, job_id: str, job_type: str, handler: Handler, step: str | None = None) -> str:
        """Returns what happened: skipped, succeeded, failed, handed_off or discarded.
        `step` names a later step of a multi-step job (None: the first or only one)."""
        claim = self._claim(uuid.UUID(job_id), job_type, step)
        if claim is None:
            return "skipped"
        log.info("event=job_started job_id=%s type=%s step=%s attempt=%d", job_id, job_type,
                 step or "-", claim.attempts)
        soft, _ = self.settings.time_limits_for(job_type)
        declared = self.settings.job_types.get(job_type)
        step_label = (step or declared.first_step) if declared and declared.steps else None
        context = JobContext(job_id=claim.job_id, job_type=job_type, job_input=claim.job_input,
                             tenant_id=claim.tenant_id, db=self.db, settings=self.settings,
                             soft_limit_s=soft, step=step, step_state=claim.step_state,
                             step_label=step_label)
        try:
            outcome = handler(context)
        except JobCanceled:
            log.info("event=job_stopped job_id=%s reason=no_longer_running", job_id)
            return "discarded"
        except DeadlineExceeded as exc:
            return self._fail(claim, ErrorCode.DEADLINE_EXCEEDED, str(exc))
        except (SoftTimeLimitExceeded, JobTimedOut):
            return self._fail(claim, ErrorCode.TIMEOUT, f"job exceeded its {soft:g}s time limit")
        except QualityCheckFailed as exc:
            return self._fail(claim, ErrorCode.QUALITY_CHECK_FAILED, str(exc), exc.details)
        except InvalidJobInput as exc:
            return self._fail(claim, ErrorCode.INVALID_INPUT, str(exc))
        except Exception as exc:
            log.exception("event=handler_error job_id=%s", job_id)
            return self._fail(claim, ErrorCode.MODEL_ERROR, f"{type(exc).__name__}: {exc}")
        handler_name = getattr(handler, "__name__", job_type)
        if outcome.next_step is not None:
            return self._hand_off(claim, job_type, outcome, handler_name)
        return self._record_result(claim, outcome, handler_name)

    def _hand_off(self, claim: _Claim, job_type: str, outcome: Outcome,
                  handler_name: str) -> str:
        """Pass the job on to its next step (its row first, then a message to its queue)."""
        declared = self.settings.job_types[job_type]
        if outcome.next_step not in {s.name for s in declared.steps}:
            return self._fail(claim, ErrorCode.MODEL_ERROR,
                              f"{handler_name} asked for a step {outcome.next_step!r} that "
                              f"{job_type} does not declare")
        state = outcome.step_state or {}
        if problem := json_problem(state, "step_state"):
            return self._fail(claim, ErrorCode.MODEL_ERROR,
                              f"{handler_name} handed over state that is not valid JSON: "
                              f"{problem}")
        progress = {"step": outcome.next_step, "state": "waiting for a worker"}

        def write() -> bool:
            with self.db.session() as session:
                return lifecycle.hand_off(session, claim.job_id, attempts=claim.attempts,
                                          step=outcome.next_step, step_state=state,
                                          progress=progress)

        if not self._with_retry(write):
            log.info("event=hand_off_discarded job_id=%s reason=canceled_or_superseded",
                     claim.job_id)
            return "discarded"
        # Only a nudge, like every send: if it is lost the sweeper sends the step again.
        sent = self.celery is not None and send_job(
            self.celery, self.settings, job_id=claim.job_id, job_type=job_type,
            priority=claim.priority, step=outcome.next_step)
        log.info("event=job_handed_off job_id=%s step=%s sent=%s", claim.job_id,
                 outcome.next_step, sent)
        return "handed_off"

    def _record_result(self, claim: _Claim, outcome: Outcome, handler_name: str) -> str:
        """Succeed with a storable result, or fail `model_error` saying why it is not one.

        Whatever goes wrong while writing is recorded as the job's failure here and now: a
        job left `running` would wait minutes for the sweeper and be run again for nothing.
        """
        problem = (json_problem(outcome.result) if isinstance(outcome.result, dict)
                   else f"result is a {type(outcome.result).__name__}, not a JSON object")
        if problem:
            log.warning("event=result_refused job_id=%s handler=%s problem=%s",
                        claim.job_id, handler_name, problem)
            return self._fail(claim, ErrorCode.MODEL_ERROR,
                              f"{handler_name} returned a result that is not valid JSON: "
                              f"{problem}")
        try:
            return self._with_retry(lambda: self._succeed(claim, outcome))
        except Exception as exc:
            log.exception("event=result_not_stored job_id=%s handler=%s", claim.job_id,
                          handler_name)
            first_line = (str(exc).splitlines() or [""])[0]
            return self._fail(claim, ErrorCode.MODEL_ERROR,
                              f"the result of {handler_name} could not be stored: "
                              f"{type(exc).__name__}: {first_line}")

    @staticmethod
    def _with_retry(write: Callable[[], Any], attempts: int = 3) -> Any:
        """Run a write again when it lost a deadlock or a lock wait (the database is up)."""
        for attempt in range(1, attempts + 1):
            try:
                return write()
            except Exception as exc:
                if contention(exc) is None or attempt == attempts:
                    raise
                log.info("event=write_retry kind=%s attempt=%d", contention(exc), attempt)
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _claim(self, job_id: uuid.UUID, job_type: str, step: str | None) -> _Claim | None:
        claimed_by = {"worker_host": self.host, "worker_pid": self.pid, "started_at": utcnow()}
        with self.db.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                log.warning("event=job_missing job_id=%s", job_id)
                return None
            if job.request_id and logs.current_request_id() is None:
                logs.bind(request_id=job.request_id)  # re-sent by the sweeper: no header
            # Read before the change: recording its webhook event refreshes `job`.
            status, seen_attempts = job.job_status, job.attempts
            if job.step != step:  # a message for a step the job is not at (late duplicate)
                won = False
            elif status is JobStatus.RUNNING and step is not None and job.worker_host is None:
                # Handed over by the step before and not claimed yet.
                won = lifecycle.take_over(session, job_id, seen_attempts=seen_attempts,
                                          progress={"step": step, "state": "started"},
                                          **claimed_by)
            elif status is JobStatus.QUEUED:
                won = lifecycle.transition(
                    session, job_id, from_statuses=[JobStatus.QUEUED], to=JobStatus.RUNNING,
                    attempts=seen_attempts + 1, **claimed_by,
                )
            elif status is JobStatus.RUNNING and self._previous_run_is_dead(job, job_type):
                if lifecycle.settle_lost_run(session, job_id, attempts=job.attempts,
                                             settings=self.settings) is not LostRun.RETRY:
                    log.warning("event=job_worker_lost job_id=%s attempts=%d", job_id,
                                job.attempts)
                    return None
                won = lifecycle.take_over(session, job_id, seen_attempts=job.attempts,
                                          **claimed_by)
            else:
                won = False
            if not won:
                log.info("event=job_skipped job_id=%s status=%s", job_id, job.status)
                return None
            return _Claim(job_id, job.input, seen_attempts + 1, job.tenant_id, job.priority,
                          step, job.step_state, job_type)

    def _previous_run_is_dead(self, job: Job, job_type: str) -> bool:
        """True when the run recorded on a `running` job can no longer finish."""
        if job.worker_host == self.host and job.worker_pid is not None:
            # One task at a time per process: if the holder is this very process, the
            # earlier run is gone too (we would not be here otherwise).
            return job.worker_pid == self.pid or not _pid_alive(job.worker_pid)
        with self.db.session() as session:  # its process stopped its heartbeats: dead
            if heartbeats.went_silent(session, job.worker_host, job.worker_pid, self.settings):
                return True
        return lifecycle.run_is_stale(job.started_at or job.created_at, job_type, self.settings)

    def _succeed(self, claim: _Claim, outcome: Outcome) -> str:
        with self.db.session() as session:
            won = lifecycle.transition(
                session, claim.job_id, from_statuses=[JobStatus.RUNNING],
                to=JobStatus.SUCCEEDED, extra_conditions=[Job.attempts == claim.attempts],
                result=outcome.result, model_name=outcome.model_name,
                model_revision=outcome.model_revision,
            )
        if not won:
            log.info("event=result_discarded job_id=%s reason=canceled_or_superseded",
                     claim.job_id)
            return "discarded"
        log.info("event=job_succeeded job_id=%s", claim.job_id)
        return "succeeded"

    def _fail(self, claim: _Claim, code: ErrorCode, message: str,
              details: dict[str, Any] | None = None) -> str:
        if details is not None and (problem := json_problem(details, "details")):
            message, details = f"{message} (its details were not storable: {problem})", None
        message = printable_message(message)
        declared = self.settings.job_types.get(claim.job_type)
        if declared is not None and declared.steps:  # say which step of the chain failed
            message = f"step {claim.step or declared.first_step}: {message}"

        def write() -> bool:
            with self.db.session() as session:
                return lifecycle.transition(
                    session, claim.job_id, from_statuses=[JobStatus.RUNNING],
                    to=JobStatus.FAILED, extra_conditions=[Job.attempts == claim.attempts],
                    error_code=code.value, error_message=message, result=details,
                )

        won = self._with_retry(write)
        log.info("event=job_failed job_id=%s code=%s recorded=%s", claim.job_id, code, won)
        if won:
            self.failure = (code.value, message)
        return "failed" if won else "discarded"


def record_hard_timeout(db: Database, job_id: str, seconds: float) -> bool:
    """Called in the worker's parent when it killed a child at the hard time limit."""
    with db.session() as session:
        return lifecycle.transition(
            session, uuid.UUID(job_id), from_statuses=[JobStatus.RUNNING], to=JobStatus.FAILED,
            error_code=ErrorCode.TIMEOUT.value,
            error_message=f"job exceeded its hard time limit of {seconds:g}s and was stopped",
        )
