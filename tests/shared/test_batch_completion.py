"""A batch ends when its last jobs end at the same moment in two transactions (two worker
processes), on PostgreSQL as on SQLite: each used to see the other still running, and the
batch stayed in_progress for good (the CLI's `batch` then waited forever)."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from shared.db import Database
from shared.lifecycle import transition
from shared.models import Batch, Job, Tenant, utcnow
from shared.status import JobStatus


@pytest.fixture
def database(migrated_database):
    return migrated_database


def _batch_of_two_running_jobs(db: Database) -> tuple[uuid.UUID, list[uuid.UUID]]:
    batch_id, jobs = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    with db.session() as session:
        tenant = Tenant(id=uuid.uuid4(), name=f"t-{batch_id.hex[:8]}")
        session.add(tenant)
        session.flush()
        session.add(Batch(id=batch_id, tenant_id=tenant.id, status="in_progress", total=2,
                          invalid_lines=[]))
        session.flush()
        for n, job_id in enumerate(jobs):
            session.add(Job(id=job_id, tenant_id=tenant.id, type="echo", input={},
                            status=JobStatus.RUNNING.value, priority=5, attempts=1,
                            created_at=utcnow(), enqueued_at=utcnow(), batch_id=batch_id,
                            custom_id=str(n)))
    return batch_id, jobs


def _end(session, job_id: uuid.UUID) -> None:
    assert transition(session, job_id, from_statuses=[JobStatus.RUNNING],
                      to=JobStatus.SUCCEEDED)


def test_the_last_two_jobs_ending_together_end_the_batch(database):
    batch_id, (first, second) = _batch_of_two_running_jobs(database)
    first_ended = threading.Event()
    release_first = threading.Event()
    errors: list[BaseException] = []

    def end_first() -> None:
        try:
            with database.session() as session:
                _end(session, first)
                first_ended.set()  # ended and checked its batch, not yet committed
                release_first.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            first_ended.set()

    thread = threading.Thread(target=end_first)
    thread.start()
    assert first_ended.wait(10)
    second_done = threading.Event()

    def end_second() -> None:
        try:
            with database.session() as session:
                _end(session, second)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        second_done.set()

    other = threading.Thread(target=end_second)
    other.start()
    # The second's transaction overlaps the first's: it starts before the first commits.
    second_done.wait(0.5)
    release_first.set()
    thread.join(20)
    other.join(20)
    assert not errors, errors
    with database.session() as session:
        status = session.scalar(select(Batch.status).where(Batch.id == batch_id))
    assert status == "completed"
