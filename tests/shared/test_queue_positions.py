"""Where a queued job stands (shared.lanes): the documented rule, counted row by row for a
tenant with a short backlog and estimated from the lane's snapshot for a deep one, on
SQLite and PostgreSQL; and a deep backlog's place costs no statement at all."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event

from shared import lanes
from shared.db import Database
from shared.migrate import upgrade
from shared.models import Job, Tenant, utcnow
from shared.settings import Settings

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


def _position(session, job: Job, snapshot: lanes.LaneSnapshot, polled: bool = True) -> int:
    return lanes.queue_position(session, SETTINGS, job, lambda _queue: snapshot,
                                count_released=polled)


def test_an_older_jobs_place_is_counted_row_by_row(db):
    with db.session() as session:
        shop, other = _tenant(session), _tenant(session)
        _queue(session, shop, 3, released=True)
        _queue(session, other, 25)
        before_the_shops = _snapshot(session)  # saw none of the shop's held jobs
        mine = _queue(session, shop, 40, start=START + timedelta(minutes=1),
                      every=timedelta(seconds=1))
        mine += _queue(session, shop, 5, priority=8, start=START + timedelta(minutes=2))
        for snapshot in (before_the_shops, _snapshot(session)):
            for job in mine[::7] + mine[-2:]:
                assert _position(session, job, snapshot) == _by_the_rule(session, job)
        # The head of the held line: the released ones and one turn of the other tenant.
        assert _position(session, mine[40], before_the_shops) == 3 + 0 + 1


def test_a_new_jobs_place_comes_from_the_snapshot(db):
    with db.session() as session:
        shop, other = _tenant(session), _tenant(session)
        _queue(session, other, 2, released=True)
        _queue(session, shop, 3000)
        _queue(session, shop, 20, priority=9, start=START + timedelta(minutes=5))
        _queue(session, other, 50)
        snapshot = _snapshot(session)
        newest = _queue(session, shop, 1, start=utcnow() + timedelta(seconds=1))[0]
        # A submission's answer: no statement at all.
        answered, ran = _statements_run(db, lambda: _position(session, newest, snapshot,
                                                              polled=False))
        assert answered == _by_the_rule(session, newest) == 2 + 3020 + 50 and ran == []
        # A poll: one statement, the released jobs and the tenant's held jobs since the
        # snapshot (none yet), not its backlog.
        polled, ran = _statements_run(db, lambda: _position(session, newest, snapshot))
        assert polled == answered and len(ran) == 1 and "created_at >" in ran[0]


def test_a_poll_counts_the_jobs_submitted_since_the_snapshot(db):
    """A flood's last job, polled with a snapshot taken mid-flood, is behind all of it: a
    place that then rose as snapshots caught up would tell a client its job went back."""
    with db.session() as session:
        shop = _tenant(session)
        _queue(session, shop, 300)
        snapshot = _snapshot(session)
        later = utcnow() + timedelta(seconds=1)
        flood = _queue(session, shop, 200, start=later)
        flood += _queue(session, shop, 5, priority=8, start=later)
        for job in (flood[199], flood[-1]):
            assert _position(session, job, snapshot) == _by_the_rule(session, job)
        assert _position(session, flood[199], snapshot) == 300 + 199 + 5


def test_an_older_jobs_place_past_the_count_is_estimated(db):
    over = lanes.COUNT_UP_TO + 200
    with db.session() as session:
        shop = _tenant(session)
        flood = _queue(session, shop, over)  # at an even pace
        # A second burst twelve hours later: the pace is not even across the two.
        _queue(session, shop, over, start=START + timedelta(hours=12))
        snapshot = _snapshot(session)
        exact = flood[lanes.COUNT_UP_TO - 1]
        assert _position(session, exact, snapshot) == lanes.COUNT_UP_TO - 1
        deep = flood[-1]
        ran = _statements_run(db, lambda: _position(session, deep, snapshot))
        assert lanes.COUNT_UP_TO <= ran[0] <= _by_the_rule(session, deep) == over - 1
        assert len(ran[1]) == 1 and "LIMIT" in ran[1][0].upper()
        # An even pace throughout: the estimate is within a job.
        even = _tenant(session)
        steady = _queue(session, even, over * 2)
        snapshot = _snapshot(session)
        for job in steady[lanes.COUNT_UP_TO::150]:
            assert abs(_position(session, job, snapshot) - _by_the_rule(session, job)) <= 1


def test_a_polls_counts_read_short_index_ranges(tmp_path):
    """Neither another tenant's held backlog nor the tenant's own is walked by a poll: the
    released jobs are one range, the tenant's jobs since the snapshot another."""
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    upgrade(url)
    database = Database(url)
    statement = lanes._statements(tuple(lanes.lane_types(SETTINGS, "cpu")))[
        "released_and_own_held_since"]
    this = {"this_tenant": uuid.uuid4(), "this_priority": 5, "this_job": uuid.uuid4(),
            "this_created_at": START, "since": START}
    with database.session() as session:
        connection = session.connection()
        # The statement as the driver runs it (IN lists expanded, values bound), explained.
        _, ran = _statements_run(database, lambda: connection.execute(statement, this).one(),
                                 with_parameters=True)
        sql, parameters = ran[0]
        plan = [row[-1] for row in connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {sql}", parameters)]
    database.dispose()
    searches = [step for step in plan if step.startswith("SEARCH")]
    assert len(searches) == 2 and not any(step.startswith("SCAN jobs") for step in plan), plan
    assert "ix_jobs_lane_released" in searches[0] and "enqueued_at>?" in searches[0], plan
    assert "tenant_id=?" in searches[1] and "created_at>?" in searches[1], plan


def _statements_run(db: Database, call, with_parameters: bool = False
                    ) -> tuple[object, list]:
    ran: list = []

    def record(_connection, _cursor, statement, parameters, *_args) -> None:
        ran.append((statement, parameters) if with_parameters else statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        return call(), ran
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_the_evenly_paced_estimate_is_exact_at_both_ends():
    first = utcnow()
    span = lanes.HeldSpan(count=11, first=first, last=first + timedelta(seconds=10))
    assert span.ahead_of(first) == 0
    assert span.ahead_of(first + timedelta(seconds=5)) == 5
    assert span.ahead_of(first + timedelta(seconds=10)) == 10  # the last one: the rest
    assert span.ahead_of(first + timedelta(seconds=11)) == 11  # newer than the snapshot
    assert lanes.HeldSpan(1, first, first).ahead_of(first) == 0
