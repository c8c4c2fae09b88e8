"""Where a queued job stands (shared.lanes), on SQLite and PostgreSQL: a poll counts the
documented rule; a submission's answer reads a new job's place from the lane's snapshot
with no statement, and counts any other."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared import lanes
from shared.db import Database
from shared.migrate import upgrade
from shared.models import Job, Tenant, utcnow
from shared.settings import Settings
from tests.support.statements import Ran, recorded_statements

SETTINGS = Settings.from_env({})
START = utcnow() - timedelta(hours=1)


@pytest.fixture
def db(migrated_database):
    return migrated_database


def _tenant(session) -> uuid.UUID:
    tenant = Tenant(id=uuid.uuid4(), name=f"t-{uuid.uuid4().hex[:8]}")
    session.add(tenant)
    session.flush()
    return tenant.id


def _queue(session, tenant_id, count: int, *, released=False, priority=5,
           start=START, every=timedelta(milliseconds=10)) -> list[Job]:
    jobs = [Job(id=uuid.uuid4(), tenant_id=tenant_id, type="user_profile", input={},
                status="queued", priority=priority, attempts=0,
                created_at=start + n * every,
                enqueued_at=start + n * every if released else None)
            for n in range(count)]
    session.add_all(jobs)
    session.flush()
    return jobs


def _by_the_rule(session, job: Job) -> int:
    """The README's rule, from every row in Python: every released job, the tenant's held
    jobs ahead, and as many of each other tenant's held jobs plus one."""
    queued = session.query(Job).filter(Job.status == "queued",
                                       Job.type == "user_profile").all()
    released = sum(j.enqueued_at is not None for j in queued)
    held = [j for j in queued if j.enqueued_at is None]
    own_ahead = sum(j.tenant_id == job.tenant_id and j.id != job.id and (
        j.priority > job.priority
        or (j.priority == job.priority and j.created_at < job.created_at)) for j in held)
    others: dict[uuid.UUID, int] = {}
    for j in held:
        if j.tenant_id != job.tenant_id:
            others[j.tenant_id] = others.get(j.tenant_id, 0) + 1
    return released + own_ahead + sum(min(n, own_ahead + 1) for n in others.values())


def _snapshot(session) -> lanes.LaneSnapshot:
    return lanes.lane_snapshot(session, SETTINGS, "cpu")


def _polled(session, job: Job) -> int:
    return lanes.queue_position(session, SETTINGS, job)


def _answered(session, job: Job, snapshot: lanes.LaneSnapshot) -> int:
    """As a submission's answer reads it."""
    return lanes.queue_position(session, SETTINGS, job, lambda _queue: snapshot)


def test_a_poll_counts_the_place_by_the_rule(db):
    with db.session() as session:
        shop, other = _tenant(session), _tenant(session)
        _queue(session, shop, 3, released=True)
        _queue(session, other, 25)
        mine = _queue(session, shop, 40, start=START + timedelta(minutes=1))
        mine += _queue(session, shop, 5, priority=8, start=START + timedelta(minutes=2))
        for job in mine[::7] + mine[-2:]:
            assert _polled(session, job) == _by_the_rule(session, job)
        # The head of the held line: the released ones and one turn of the other tenant.
        assert _polled(session, mine[40]) == 3 + 0 + 1


def test_a_submissions_answer_reads_a_new_jobs_place_from_the_snapshot(db):
    with db.session() as session:
        shop, other = _tenant(session), _tenant(session)
        _queue(session, other, 2, released=True)
        _queue(session, shop, 3000)
        _queue(session, shop, 20, priority=9, start=START + timedelta(minutes=5))
        _queue(session, shop, 7, priority=2, start=START + timedelta(minutes=6))
        _queue(session, other, 50)
        snapshot = _snapshot(session)
        newest = _queue(session, shop, 1, start=START + timedelta(minutes=10))[0]
        answered, ran = _statements_run(db, lambda: _answered(session, newest, snapshot))
        assert answered == _by_the_rule(session, newest) == 2 + 3020 + 50 and ran == []
        assert _polled(session, newest) == answered


def test_any_other_job_in_a_submissions_answer_is_counted(db):
    """Older than the snapshot's newest of its priority (here a batch's first line, which
    shares its time with 499 others), or at a priority the snapshot never saw: one count,
    exact."""
    with db.session() as session:
        shop = _tenant(session)
        _queue(session, shop, 10)
        batch = _queue(session, shop, 500, start=START + timedelta(minutes=1),
                       every=timedelta(0))
        _queue(session, shop, 3, start=START + timedelta(minutes=2))
        snapshot = _snapshot(session)
        urgent = _queue(session, shop, 1, priority=7, start=START + timedelta(minutes=3))[0]
        for job in (batch[0], batch[-1], urgent):
            answered, ran = _statements_run(db, lambda job=job: _answered(session, job,
                                                                          snapshot))
            assert answered == _by_the_rule(session, job) and len(ran) == 1
        # Behind the 10 before it and the urgent one, not behind its 499 batch mates.
        assert _answered(session, batch[-1], snapshot) == 10 + 1


def test_a_snapshot_read_after_the_submission_places_it_last(db):
    with db.session() as session:
        shop = _tenant(session)
        jobs = _queue(session, shop, 30)
        answered, ran = _statements_run(db, lambda: _answered(session, jobs[-1],
                                                              _snapshot(session)))
        assert answered == 29 == _by_the_rule(session, jobs[-1])
        assert len(ran) == 1  # the snapshot's own read


def test_the_released_count_reads_the_released_range_only(tmp_path):
    """Another tenant's held backlog is not walked to count the released jobs ahead."""
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    upgrade(url)
    database = Database(url)
    statement = lanes._statements(tuple(lanes.lane_types(SETTINGS, "cpu")))["released_ahead"]
    this = {"this_priority": 5, "this_job": uuid.uuid4(), "this_created_at": START}
    with database.session() as session:
        connection = session.connection()
        # The statement as the driver runs it (IN lists expanded, values bound), explained.
        _, ran = _statements_run(database, lambda: connection.execute(statement, this).one())
        plan = " ".join(row[-1] for row in connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {ran[0].sql}", ran[0].parameters))
    database.dispose()
    assert "ix_jobs_lane_released" in plan and "enqueued_at>?" in plan, plan


def _statements_run(db: Database, call) -> tuple[object, list[Ran]]:
    with recorded_statements(db.engine) as ran:
        result = call()
    return result, ran
