"""Database contention is retried, then answered as contention, never as an outage."""

from __future__ import annotations

import random
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from api import create_app
from api.transactions import ATTEMPTS, in_transaction
from shared.models import Catalog, CatalogItem, Tenant
from tests.support.stack import build_stack


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def racing(request, redis_server, database_factory):
    """The API app on one backend, no workers."""
    built = build_stack(request.param, database_factory(request.param),
                        f"redis://127.0.0.1:{redis_server.port}/13", with_worker=False)
    yield built
    built.stop()


def test_concurrent_uploads_to_one_new_catalog_all_succeed_and_count(racing):
    """Two clients creating the same catalog at once got a 500 (unique name); overlapping
    uploads could deadlock or lose a version bump. Each upload here changes every title."""
    uploads_per_catalog, names = 12, [f"race-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    headers = racing.auth("racers")

    def upload(number: int):
        items = [{"id": str(i), "title": f"item {i} upload {number}"} for i in range(40)]
        random.shuffle(items)  # every upload touches the rows in another order
        response = racing.app.test_client().put(
            f"/v1/catalogs/{names[number % 3]}/items", json={"items": items}, headers=headers)
        return response.status_code, response.get_data(as_text=True)[:300]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(upload, range(uploads_per_catalog * 3)))
    assert {status for status, _ in results} == {202}, results
    with racing.db.session() as session:
        catalogs = session.scalars(select(Catalog).where(Catalog.name.in_(names))).all()
        assert sorted(c.name for c in catalogs) == sorted(names)  # one row each
        assert {c.version for c in catalogs} == {uploads_per_catalog}  # no bump was lost
        for catalog in catalogs:
            items = session.scalars(select(CatalogItem.item_id).where(
                CatalogItem.catalog_id == catalog.id)).all()
            assert len(items) == 40


@pytest.fixture(scope="module")
def racing_postgres(redis_server, database_factory):
    """The API app on PostgreSQL (SQLite has one writer at a time: it cannot deadlock)."""
    built = build_stack("postgresql", database_factory("postgresql"),
                        f"redis://127.0.0.1:{redis_server.port}/13", with_worker=False)
    yield built
    built.stop()


def test_a_real_deadlock_is_retried_and_both_transactions_commit(racing_postgres):
    racing = racing_postgres
    racing.key("deadlockers")
    rows = [uuid.uuid4(), uuid.uuid4()]
    with racing.db.session() as session:
        tenant = session.scalar(select(Tenant.id).where(Tenant.name == "deadlockers"))
        for row in rows:
            session.add(Catalog(id=row, tenant_id=tenant, name=f"lock-{row.hex[:8]}",
                                version=0, events_version=0))
    both_hold_one = threading.Barrier(2, timeout=20)
    attempts: list[int] = []

    def lock_in_order(first, second):
        def work(session):
            attempts.append(1)
            bump = text("UPDATE catalogs SET version = version + 1 WHERE id = :id")
            session.execute(bump, {"id": first})
            if len(attempts) <= 2:
                both_hold_one.wait()  # each holds one row and now wants the other's
            session.execute(bump, {"id": second})
        with racing.app.app_context():
            in_transaction(work)

    with ThreadPoolExecutor(2) as pool:
        done = [pool.submit(lock_in_order, rows[0], rows[1]),
                pool.submit(lock_in_order, rows[1], rows[0])]
        for future in done:
            future.result(timeout=60)  # neither raised: the deadlock victim ran again
    assert len(attempts) == 3
    with racing.db.session() as session:
        versions = session.scalars(select(Catalog.version).where(Catalog.id.in_(rows))).all()
    assert versions == [2, 2]  # both transactions' changes, each exactly once


def _deadlock_error() -> OperationalError:
    """A real PostgreSQL-style deadlock error, as psycopg raises it."""
    import psycopg

    error = psycopg.errors.DeadlockDetected("deadlock detected")
    return OperationalError("UPDATE catalogs ...", {}, error)


def _sqlite_busy_error(tmp_path) -> OperationalError:
    """A real `database is locked` from SQLite, got by writing under another writer."""
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("INSERT INTO t VALUES (2)")
    except sqlite3.OperationalError as exc:
        return OperationalError("INSERT INTO t ...", {}, exc)
    finally:
        holder.close()
        other.close()
    raise AssertionError("SQLite did not report the lock")


def test_contention_that_outlasts_the_retries_is_409_or_503_busy_not_an_outage(
        racing, tmp_path):
    calls = {"deadlock": 0, "busy": 0}
    errors = {"deadlock": _deadlock_error(), "busy": _sqlite_busy_error(tmp_path)}

    def always(kind):
        def view():
            def work(session):
                calls[kind] += 1
                raise errors[kind]
            return in_transaction(work)
        return view

    app = create_app(racing.settings)
    app.add_url_rule("/probe/deadlock", "probe_deadlock", always("deadlock"))
    app.add_url_rule("/probe/busy", "probe_busy", always("busy"))
    conflict = app.test_client().get("/probe/deadlock")
    assert conflict.status_code == 409
    assert conflict.json["error"]["code"] == "concurrent_update"
    busy = app.test_client().get("/probe/busy")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert busy.json["error"]["code"] == "database_busy"
    assert calls == {"deadlock": ATTEMPTS, "busy": ATTEMPTS}
