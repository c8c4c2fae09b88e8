"""Statuses go queued -> running -> succeeded | failed | canceled and never leave the end."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis
from sqlalchemy import select

from shared import lifecycle
from shared.models import Job, WebhookDelivery
from shared.status import IllegalTransition, JobStatus
from tests.support.rows import insert_job, job_row, tenant_id, waiting

Q, R, S, F, C = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED,
                 JobStatus.CANCELED)
LEGAL = {(Q, R), (Q, C), (R, S), (R, F), (R, C)}


@pytest.mark.parametrize("source", list(JobStatus))
@pytest.mark.parametrize("target", list(JobStatus))
def test_only_the_documented_transitions_are_legal(source, target):
    if (source, target) in LEGAL:
        source.check_transition(target)
    else:
        with pytest.raises(IllegalTransition):
            source.check_transition(target)


def test_terminal_states():
    assert {s for s in JobStatus if s.is_terminal} == {S, F, C}


def test_lifecycle_refuses_to_write_an_illegal_change(own_stack):
    with own_stack.db.session() as session, pytest.raises(IllegalTransition):
        lifecycle.transition(session, uuid.uuid4(), from_statuses=[S], to=R)


def _race(stack, contenders: int, act) -> list:
    """Run `act(session, index)` in `contenders` threads, each in its own session and
    transaction, released together at a barrier; returns what each call returned."""
    barrier = threading.Barrier(contenders)
    results: list = [None] * contenders
    errors: list[BaseException] = []

    def contend(index: int) -> None:
        try:
            with stack.db.session() as session:
                session.execute(select(1))  # hold a connection before the start
                barrier.wait(timeout=30)
                results[index] = act(session, index)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.fixture
def jobs(own_stack):
    tenant = tenant_id(own_stack, f"status-{uuid.uuid4().hex[:8]}")
    return own_stack, lambda **values: insert_job(own_stack, tenant, **values)


@pytest.mark.parametrize("round_", range(3))
def test_a_claim_raced_by_four_deliveries_is_won_once(jobs, round_):
    stack, insert = jobs
    job_id = insert()
    wins = _race(stack, 4, lambda session, i: lifecycle.transition(
        session, job_id, from_statuses=[Q], to=R, attempts=1, worker_pid=i))
    assert sorted(wins) == [False, False, False, True]
    row = job_row(stack, job_id)
    assert (row.status, row.attempts, row.worker_pid) == ("running", 1, wins.index(True))


@pytest.mark.parametrize("round_", range(3))
def test_a_dead_run_raced_by_four_takeovers_is_taken_once(jobs, round_):
    stack, insert = jobs
    job_id = insert(status="running", attempts=1)
    wins = _race(stack, 4, lambda session, i: lifecycle.take_over(
        session, job_id, seen_attempts=1, worker_pid=i))
    assert sorted(wins) == [False, False, False, True]
    row = job_row(stack, job_id)
    assert (row.status, row.attempts, row.worker_pid) == ("running", 2, wins.index(True))


def test_a_cancel_racing_a_result_leaves_exactly_one_outcome(jobs):
    stack, insert = jobs
    for _ in range(3):
        job_id = insert(status="running", attempts=1)
        tenant = job_row(stack, job_id).tenant_id

        def act(session, index, job_id=job_id, tenant=tenant):
            if index == 0:
                return lifecycle.cancel(session, job_id, tenant)
            return lifecycle.transition(session, job_id, from_statuses=[R], to=S,
                                        extra_conditions=[Job.attempts == 1], result={"i": 1})

        canceled, succeeded = _race(stack, 2, act)
        assert canceled != succeeded
        row = job_row(stack, job_id)
        assert row.status == ("canceled" if canceled else "succeeded")
        assert row.result == (None if canceled else {"i": 1})


def test_a_change_only_happens_from_the_named_statuses(jobs):
    stack, insert = jobs
    job_id = insert()
    with stack.db.session() as session:
        assert not lifecycle.transition(session, job_id, from_statuses=[R], to=S)
        assert lifecycle.transition(session, job_id, from_statuses=[Q], to=R)
        assert not lifecycle.transition(session, job_id, from_statuses=[Q], to=R)
    assert job_row(stack, job_id).finished_at is None  # running is not an end
    with stack.db.session() as session:
        assert lifecycle.transition(session, job_id, from_statuses=[R], to=S)
    row = job_row(stack, job_id)
    assert row.status == "succeeded" and row.finished_at is not None
    with stack.db.session() as session:
        assert not lifecycle.cancel(session, job_id, row.tenant_id)


def test_a_cancel_names_the_tenant(jobs):
    stack, insert = jobs
    job_id = insert()
    with stack.db.session() as session:
        assert not lifecycle.cancel(session, job_id, uuid.uuid4())
        assert lifecycle.cancel(session, job_id, job_row(stack, job_id).tenant_id)
    assert job_row(stack, job_id).status == "canceled"


def test_progress_is_stored_only_while_running(jobs):
    stack, insert = jobs
    queued, running = insert(), insert(status="running", attempts=1)
    with stack.db.session() as session:
        # (still running, progress event recorded): no webhook here, so no event.
        assert lifecycle.record_progress(session, running, {"n": 1},
                                         event_allowed=True) == (True, False)
        # Not running: nothing stored, and the handler learns it should stop.
        assert lifecycle.record_progress(session, queued, {"n": 1},
                                         event_allowed=True) == (False, False)
    assert job_row(stack, running).progress == {"n": 1}
    assert job_row(stack, queued).progress is None


def test_a_lost_run_is_retried_until_max_attempts_then_fails_once(jobs):
    stack, insert = jobs
    settings = stack.settings
    job_id = insert(status="running", attempts=settings.max_attempts - 1)
    with stack.db.session() as session:
        assert lifecycle.settle_lost_run(session, job_id, attempts=settings.max_attempts - 1,
                                         settings=settings) is lifecycle.LostRun.RETRY
    assert job_row(stack, job_id).status == "running"
    lost = insert(status="running", attempts=settings.max_attempts)
    outcomes = _race(stack, 3, lambda session, i: lifecycle.settle_lost_run(
        session, lost, attempts=settings.max_attempts, settings=settings))
    assert sorted(outcomes) == sorted([lifecycle.LostRun.FAILED]
                                      + [lifecycle.LostRun.SETTLED_ELSEWHERE] * 2)
    row = job_row(stack, lost)
    assert (row.status, row.error_code) == ("failed", "worker_lost")


def test_an_event_is_recorded_and_sent_only_with_its_committed_change(jobs):
    """README: an event is written in the same transaction as the status change it reports
    and sent after the commit; a change that rolls back leaves no delivery and sends nothing."""
    stack, insert = jobs
    broker = redis.Redis.from_url(stack.settings.broker_url)
    hook = {"url": "http://127.0.0.1:9/h", "events": ["completed", "started"]}
    job_id = insert(webhook=hook)
    before = waiting(broker, "webhooks")
    with pytest.raises(RuntimeError), stack.db.session() as session:
        assert lifecycle.transition(session, job_id, from_statuses=[Q], to=R)
        raise RuntimeError("the rest of the transaction failed")
    with stack.db.session() as session:
        assert session.scalars(select(WebhookDelivery)
                               .where(WebhookDelivery.job_id == job_id)).all() == []
    assert job_row(stack, job_id).status == "queued"
    assert waiting(broker, "webhooks") == before

    with stack.db.session() as session:
        assert lifecycle.transition(session, job_id, from_statuses=[Q], to=R)
    with stack.db.session() as session:
        assert session.scalars(select(WebhookDelivery.event)
                               .where(WebhookDelivery.job_id == job_id)).all() == ["started"]
    assert waiting(broker, "webhooks") == before + 1
    quiet = insert(webhook={"url": "http://127.0.0.1:9/h", "events": ["completed"]})
    with stack.db.session() as session:
        assert lifecycle.transition(session, quiet, from_statuses=[Q], to=R)
    assert waiting(broker, "webhooks") == before + 1  # `started` was not asked for
