"""The runner in process, against a database of its own (SQLite and PostgreSQL): how a
delivery claims a job, what each handler failure becomes, and the lost-run rules
(`worker_lost` after VITRINE_MAX_ATTEMPTS, a dead process on this host, a stale run on
another host). Real handlers are plain functions; only the model work is left out."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select

from shared import lifecycle
from shared.models import WebhookDelivery, utcnow
from shared.status import JobStatus
from tests.support.rows import insert_job, job_row, tenant_id
from worker.contract import (
    DeadlineExceeded,
    InvalidJobInput,
    JobTimedOut,
    Outcome,
    QualityCheckFailed,
)
from worker.runner import JobRunner, record_hard_timeout


class Handler:
    """A handler that records the contexts it was given and does what it is told."""

    __name__ = "recording_handler"

    def __init__(self, then=lambda context: Outcome({"ok": True}, "m", "r1")) -> None:
        self.then = then
        self.contexts = []

    def __call__(self, context):
        self.contexts.append(context)
        return self.then(context)


@pytest.fixture
def runs(own_stack):
    """(stack, runner, insert) with a tenant of this test's own."""
    tenant = tenant_id(own_stack, f"runner-{uuid.uuid4().hex[:8]}")
    runner = JobRunner(db=own_stack.db, settings=own_stack.settings)

    def insert(**values) -> uuid.UUID:
        return insert_job(own_stack, tenant, **values)

    return own_stack, runner, insert


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_queued_job_runs_once_and_its_result_is_stored(runs):
    stack, runner, insert = runs
    job_id = insert(input={"seconds": 0.5})
    handler = Handler()
    assert runner.run(str(job_id), "diag_sleep", handler) == "succeeded"
    [context] = handler.contexts
    assert context.job_id == job_id and context.input == {"seconds": 0.5}
    assert context.tenant_id == job_row(stack, job_id).tenant_id
    soft, _ = stack.settings.time_limits_for("diag_sleep")
    assert soft - 1 < context.seconds_left() <= soft
    row = job_row(stack, job_id)
    assert (row.status, row.result, row.attempts) == ("succeeded", {"ok": True}, 1)
    assert (row.model_name, row.model_revision) == ("m", "r1")
    assert (row.worker_host, row.worker_pid) == (runner.host, runner.pid)
    assert row.started_at is not None and row.finished_at >= row.started_at
    # A second delivery of the same message finds it finished and does nothing.
    assert runner.run(str(job_id), "diag_sleep", handler) == "skipped"
    assert len(handler.contexts) == 1


def test_a_message_for_a_job_without_a_row_runs_nothing(runs):
    _, runner, _ = runs
    handler = Handler()
    assert runner.run(str(uuid.uuid4()), "diag_sleep", handler) == "skipped"
    assert handler.contexts == []


@pytest.mark.parametrize(("raised", "code", "message"), [
    (JobTimedOut("late"), "timeout", "job exceeded its 4s time limit"),
    (SoftTimeLimitExceeded(), "timeout", "job exceeded its 4s time limit"),
    (DeadlineExceeded("no turn in time: 3 tokens/s"), "deadline_exceeded",
     "no turn in time: 3 tokens/s"),
    (InvalidJobInput("input.catalog: no such catalog"), "invalid_input",
     "input.catalog: no such catalog"),
    (ValueError("bad weights"), "model_error", "ValueError: bad weights"),
])
def test_each_handler_failure_has_its_stable_code(runs, raised, code, message):
    stack, runner, insert = runs
    job_id = insert()

    def fail(context):
        raise raised

    assert runner.run(str(job_id), "diag_sleep", Handler(fail)) == "failed"
    row = job_row(stack, job_id)
    assert (row.status, row.error_code, row.error_message) == ("failed", code, message)
    assert row.result is None and row.finished_at is not None


def test_a_failed_quality_check_keeps_its_details_as_the_result(runs):
    stack, runner, insert = runs
    job_id = insert()

    def fail(context):
        raise QualityCheckFailed("every attempt failed", {"attempts": [{"n": 1}]})

    assert runner.run(str(job_id), "diag_sleep", Handler(fail)) == "failed"
    row = job_row(stack, job_id)
    assert (row.error_code, row.result) == ("quality_check_failed", {"attempts": [{"n": 1}]})

    def unstorable(context):
        raise QualityCheckFailed("every attempt failed", {"score": float("nan")})

    other = insert()
    assert runner.run(str(other), "diag_sleep", Handler(unstorable)) == "failed"
    row = job_row(stack, other)
    assert row.result is None and "details were not storable" in row.error_message


@pytest.mark.parametrize("result", [["not", "an", "object"], {"score": float("inf")}])
def test_a_result_that_is_not_storable_json_fails_model_error(runs, result):
    stack, runner, insert = runs
    job_id = insert()
    assert runner.run(str(job_id), "diag_sleep", Handler(lambda c: Outcome(result))) == "failed"
    row = job_row(stack, job_id)
    assert row.error_code == "model_error" and "recording_handler returned a result" in \
        row.error_message
    assert row.status == "failed" and row.result is None


def test_a_job_canceled_while_it_runs_discards_its_result(runs):
    stack, runner, insert = runs
    job_id = insert()

    def cancel_meanwhile(context):
        with stack.db.session() as session:
            assert lifecycle.cancel(session, job_id, context.tenant_id)
        return Outcome({"late": True})

    assert runner.run(str(job_id), "diag_sleep", Handler(cancel_meanwhile)) == "discarded"
    row = job_row(stack, job_id)
    assert (row.status, row.result) == ("canceled", None)

    failing = insert()

    def cancel_then_fail(context):
        with stack.db.session() as session:
            lifecycle.cancel(session, failing, context.tenant_id)
        raise ValueError("too late to matter")

    assert runner.run(str(failing), "diag_sleep", Handler(cancel_then_fail)) == "discarded"
    assert job_row(stack, failing).status == "canceled"


def test_a_run_whose_process_died_on_this_host_is_taken_over(runs):
    stack, runner, insert = runs
    job_id = insert(status="running", attempts=1, started_at=utcnow(),
                    worker_host=runner.host, worker_pid=_dead_pid())
    handler = Handler()
    assert runner.run(str(job_id), "diag_sleep", handler) == "succeeded"
    row = job_row(stack, job_id)
    assert (row.status, row.attempts, row.worker_pid) == ("succeeded", 2, runner.pid)


def test_a_run_of_this_very_process_is_taken_over(runs):
    # One task at a time per process: a run recorded for this pid is an earlier, dead one.
    stack, runner, insert = runs
    job_id = insert(status="running", attempts=1, started_at=utcnow(),
                    worker_host=runner.host, worker_pid=runner.pid)
    assert runner.run(str(job_id), "diag_sleep", Handler()) == "succeeded"
    assert job_row(stack, job_id).attempts == 2


def test_a_run_of_a_live_process_is_left_alone(runs):
    stack, runner, insert = runs
    with subprocess.Popen(["sleep", "30"]) as alive:
        try:
            job_id = insert(status="running", attempts=1, started_at=utcnow(),
                            worker_host=runner.host, worker_pid=alive.pid)
            handler = Handler()
            assert runner.run(str(job_id), "diag_sleep", handler) == "skipped"
        finally:
            alive.kill()
    assert handler.contexts == []
    row = job_row(stack, job_id)
    assert (row.status, row.attempts, row.worker_pid) == ("running", 1, alive.pid)


def test_a_lost_run_out_of_attempts_fails_worker_lost_without_running(runs):
    stack, runner, insert = runs
    attempts = stack.settings.max_attempts
    job_id = insert(status="running", attempts=attempts, started_at=utcnow(),
                    worker_host=runner.host, worker_pid=_dead_pid())
    handler = Handler()
    assert runner.run(str(job_id), "diag_sleep", handler) == "skipped"
    assert handler.contexts == []
    row = job_row(stack, job_id)
    assert (row.status, row.error_code, row.attempts) == ("failed", "worker_lost", attempts)
    assert row.error_message == f"the worker running it was lost {attempts} times"


def test_a_run_on_another_host_is_taken_over_only_once_it_is_stale(runs):
    """Another host's process cannot be checked: its run is dead once it is older than the
    type's hard limit plus VITRINE_STALE_GRACE_S."""
    stack, runner, insert = runs
    stale_after = stack.settings.stale_after_s("diag_sleep")
    recent = insert(status="running", attempts=1, worker_host="elsewhere", worker_pid=1,
                    started_at=utcnow() - timedelta(seconds=stale_after - 3))
    old = insert(status="running", attempts=1, worker_host="elsewhere", worker_pid=1,
                 started_at=utcnow() - timedelta(seconds=stale_after + 3))
    handler = Handler()
    assert runner.run(str(recent), "diag_sleep", handler) == "skipped"
    assert job_row(stack, recent).status == "running"
    assert runner.run(str(old), "diag_sleep", handler) == "succeeded"
    row = job_row(stack, old)
    assert (row.attempts, row.worker_host) == (2, runner.host)
    assert len(handler.contexts) == 1


def test_staleness_starts_just_after_the_hard_limit_plus_grace(runs):
    stack, _, _ = runs
    settings = stack.settings
    limit = timedelta(seconds=settings.stale_after_s("diag_sleep"))
    assert limit == timedelta(seconds=settings.time_limits_for("diag_sleep")[1]
                              + settings.stale_grace_s)
    started = utcnow()
    assert not lifecycle.run_is_stale(started, "diag_sleep", settings, started + limit)
    assert lifecycle.run_is_stale(started, "diag_sleep", settings,
                                  started + limit + timedelta(milliseconds=1))


def test_a_hard_timeout_recorded_by_the_parent_fails_the_job(runs):
    stack, _, insert = runs
    job_id = insert(status="running", attempts=1, started_at=utcnow())
    assert record_hard_timeout(stack.db, str(job_id), 6)
    row = job_row(stack, job_id)
    assert (row.status, row.error_code) == ("failed", "timeout")
    assert row.error_message == "job exceeded its hard time limit of 6s and was stopped"
    assert not record_hard_timeout(stack.db, str(job_id), 6)  # already settled


def test_finished_and_canceled_jobs_are_not_run(runs):
    stack, runner, insert = runs
    handler = Handler()
    for status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED):
        job_id = insert(status=status.value, attempts=1)
        assert runner.run(str(job_id), "diag_sleep", handler) == "skipped"
        assert job_row(stack, job_id).status == status.value
    assert handler.contexts == []


def test_progress_is_written_at_most_four_times_a_second_and_heard_once_a_second(
        runs, monkeypatch):
    """README: progress is written at most four times a second; a `progress` webhook goes
    out at most once a second per job."""
    stack, runner, insert = runs
    job_id = insert(webhook={"url": "http://127.0.0.1:9/h", "events": ["progress"]})
    writes, events = [], []
    real_record = lifecycle.record_progress

    def counting(session, job, progress, *, event_allowed):
        # When the write was decided, not when the database answered: under load a write
        # may take tens of milliseconds, which would blur the one-second spacing measured.
        decided = time.monotonic()
        writes.append(decided)
        running, heard = real_record(session, job, progress, event_allowed=event_allowed)
        if heard:
            events.append(decided)
        return running, heard

    monkeypatch.setattr(lifecycle, "record_progress", counting)

    def busy(context):
        started = time.monotonic()
        step = 0
        while time.monotonic() - started < 2.2:
            step += 1
            context.report_progress({"step": step})
            time.sleep(0.01)
        context.report_progress({"step": step}, force=True)  # unchanged: not written again
        context.report_progress({"step": step + 1}, force=True)  # forced: written at once
        return Outcome({"steps": step})

    assert runner.run(str(job_id), "diag_sleep", Handler(busy)) == "succeeded"
    # ~2.2 s at 4 a second plus the forced one; fewer when the database is slow (a write
    # only starts the next interval once it is done).
    assert 3 <= len(writes) <= 11, len(writes)
    throttled = writes[:-1]  # the last write was forced
    # Any one second holds at most 4 throttled writes (plus one for when a write's own
    # database time shifts where it is seen).
    assert max(sum(t <= w < t + 1 for w in throttled) for t in throttled) <= 5
    # One event a second at most: 2.2 s give two or three, a second apart (timed when each
    # write was decided, as the throttle measures).
    assert 2 <= len(events) <= 3 and all(b - a >= 0.99 for a, b in
                                         zip(events, events[1:], strict=False))
    with stack.db.session() as session:
        kinds = session.scalars(select(WebhookDelivery.event)
                                .where(WebhookDelivery.job_id == job_id)).all()
    assert kinds == ["progress"] * len(events)
