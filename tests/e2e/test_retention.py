"""Data lifecycle on SQLite and PostgreSQL: retention purges by the sweeper (per tenant, in
small batches), idempotency keys that expire, erasure of a job and of a shopper's events,
idempotent catalog events, and webhook secrets that a read never creates."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shared.models import (
    CatalogEvent,
    Job,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
    utcnow,
)
from tests.conftest import BACKENDS
from tests.support.stack import build_stack
from worker.retention import purge


@pytest.fixture(scope="module", params=BACKENDS)
def lake(request, redis_server, database_factory):
    """The API on a database of its own per backend, no worker (rows are written directly)."""
    redis_db = 10 + BACKENDS.index(request.param)
    built = build_stack(request.param, database_factory(request.param),
                        f"redis://127.0.0.1:{redis_server.port}/{redis_db}",
                        with_worker=False, VITRINE_PURGE_BATCH="2")
    yield built
    built.stop()


def _tenant_id(stack, name: str) -> uuid.UUID:
    stack.key(name)
    with stack.db.session() as session:
        return session.scalar(select(Tenant.id).where(Tenant.name == name))


def _job(stack, tenant: str, *, finished_days_ago: float | None, status: str = "succeeded",
         **values) -> uuid.UUID:
    now = utcnow()
    finished = now - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    job_id = uuid.uuid4()
    values.setdefault("created_at", (finished or now) - timedelta(seconds=5))
    with stack.db.session() as session:
        session.add(Job(id=job_id, tenant_id=_tenant_id(stack, tenant), type="diag_sleep",
                        status=status, priority=5, input={"email": "jo@example.com"},
                        result={"ok": True} if status == "succeeded" else None, attempts=1,
                        started_at=finished, finished_at=finished, **values))
    return job_id


def _delivery(stack, job_id: uuid.UUID, *, finished_days_ago: float) -> uuid.UUID:
    finished = utcnow() - timedelta(days=finished_days_ago)
    delivery_id = uuid.uuid4()
    with stack.db.session() as session:
        tenant_id = session.get(Job, job_id).tenant_id
        session.add(WebhookDelivery(id=delivery_id, job_id=job_id, tenant_id=tenant_id,
                                    event="completed", url="https://example.com/hook",
                                    body='{"input": {"email": "jo@example.com"}}',
                                    status="succeeded", attempt_count=1, created_at=finished,
                                    finished_at=finished))
        session.flush()
        session.add(WebhookAttempt(delivery_id=delivery_id, number=1, attempted_at=finished,
                                   status_code=200, latency_ms=3.0))
    return delivery_id


def _exists(stack, model, key) -> bool:
    with stack.db.session() as session:
        return session.get(model, key) is not None


def test_sweeper_purges_finished_jobs_and_deliveries_by_each_tenants_retention(lake):
    strict = "strict-shop"
    assert lake.client.put("/v1/settings", headers=lake.auth(strict), json={
        "job_retention_days": 2, "delivery_retention_days": 1}).status_code == 200
    old = [_job(lake, "default-shop", finished_days_ago=40) for _ in range(5)]
    recent = _job(lake, "default-shop", finished_days_ago=10)
    old_delivery = _delivery(lake, recent, finished_days_ago=31)
    recent_delivery = _delivery(lake, recent, finished_days_ago=5)
    old_delivery_of_old_job = _delivery(lake, old[0], finished_days_ago=40)
    strict_old = _job(lake, strict, finished_days_ago=3)
    strict_recent = _job(lake, strict, finished_days_ago=1)
    strict_delivery = _delivery(lake, strict_recent, finished_days_ago=1.5)
    never_finished = _job(lake, "default-shop", finished_days_ago=None, status="queued",
                          created_at=utcnow() - timedelta(days=90))

    report = purge(lake.db, lake.settings, utcnow())

    # Five old default-tenant jobs and one strict-tenant job, two rows per statement.
    assert report.jobs_purged >= 6
    for gone in (*old, strict_old):
        assert not _exists(lake, Job, gone)
    for kept in (recent, strict_recent, never_finished):
        assert _exists(lake, Job, kept)
    assert not _exists(lake, WebhookDelivery, old_delivery_of_old_job)
    assert not _exists(lake, WebhookDelivery, old_delivery)
    assert not _exists(lake, WebhookDelivery, strict_delivery)  # 1.5 days > the tenant's 1
    assert _exists(lake, WebhookDelivery, recent_delivery)
    with lake.db.session() as session:
        assert session.scalar(select(func.count()).select_from(WebhookAttempt).where(
            WebhookAttempt.delivery_id.in_([old_delivery, strict_delivery]))) == 0
    assert purge(lake.db, lake.settings, utcnow()).jobs_purged == 0  # nothing left to do


def test_retention_settings_are_validated(lake):
    response = lake.client.put("/v1/settings", headers=lake.auth(), json={
        "job_retention_days": 0})
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["path"] == "job_retention_days"


def _backdate(stack, job_id: str, hours: float) -> None:
    with stack.db.session() as session:
        session.execute(update(Job).where(Job.id == uuid.UUID(job_id)).values(
            created_at=utcnow() - timedelta(hours=hours)))


def test_job_idempotency_keys_expire_after_a_day(lake):
    headers = {**lake.auth(), "Idempotency-Key": f"k-{uuid.uuid4().hex[:8]}"}
    body = {"type": "diag_sleep", "input": {"seconds": 0}}
    first = lake.client.post("/v1/jobs", json=body, headers=headers)
    again = lake.client.post("/v1/jobs", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json["id"] == first.json["id"]
    _backdate(lake, first.json["id"], 25)
    # Expired: the key is free, even with another body and before any sweep.
    later = lake.client.post("/v1/jobs", json={**body, "priority": 7}, headers=headers)
    assert later.status_code == 202 and later.json["id"] != first.json["id"]
    assert "Idempotent-Replayed" not in later.headers
    # And the sweeper clears keys older than the TTL from the rows themselves.
    _backdate(lake, later.json["id"], 25)
    assert purge(lake.db, lake.settings, utcnow()).idempotency_keys_expired >= 1
    with lake.db.session() as session:
        assert session.get(Job, uuid.UUID(later.json["id"])).idempotency_key is None


def test_delete_erases_a_finished_jobs_input_result_and_deliveries(lake):
    job_id = _job(lake, "acme", finished_days_ago=0.1,
                  webhook={"url": "https://example.com/hook", "events": ["completed"]})
    delivery = _delivery(lake, job_id, finished_days_ago=0.1)
    response = lake.client.delete(f"/v1/jobs/{job_id}", headers=lake.auth())
    assert response.status_code == 200, response.json
    view = response.json
    assert view["input"] == {} and view["result"] is None and view["erased_at"]
    assert view["status"] == "succeeded" and view["webhook"] is None
    assert lake.get(str(job_id)) == view  # the tombstone reads back
    assert not _exists(lake, WebhookDelivery, delivery)
    with lake.db.session() as session:
        assert "jo@example.com" not in str(session.get(Job, job_id).input)
    # Erasing again is harmless; another tenant cannot see or erase it.
    assert lake.client.delete(f"/v1/jobs/{job_id}", headers=lake.auth()).status_code == 200
    assert lake.client.delete(f"/v1/jobs/{job_id}",
                              headers=lake.auth("other-shop")).status_code == 404


def test_delete_cancels_a_queued_job_before_erasing_it(lake):
    submitted = lake.submit("diag_sleep", {"seconds": 0, "echo": "jo@example.com"})
    erased = lake.client.delete(f"/v1/jobs/{submitted.json['id']}", headers=lake.auth()).json
    assert erased["status"] == "canceled" and erased["input"] == {} and erased["erased_at"]


def _events(stack, catalog: str, shopper: str, n: int = 2) -> list[dict]:
    return [{"shopper_id": shopper, "item_id": str(i % 3 + 1), "type": "view"}
            for i in range(n)]


def _event_count(stack, shopper: str | None = None) -> int:
    with stack.db.session() as session:
        query = select(func.count()).select_from(CatalogEvent)
        if shopper:
            query = query.where(CatalogEvent.shopper_id == shopper)
        return session.scalar(query)


def _catalog(stack, name: str) -> None:
    items = [{"id": str(i), "title": f"Mug {i}"} for i in range(1, 4)]
    assert stack.client.put(f"/v1/catalogs/{name}/items", json={"items": items},
                            headers=stack.auth()).status_code == 202


def test_erasing_a_shopper_removes_only_their_events(lake):
    _catalog(lake, "erase-shop")
    for shopper in ("shopper-1", "shopper-2"):
        lake.client.post("/v1/catalogs/erase-shop/events", headers=lake.auth(),
                         json={"events": _events(lake, "erase-shop", shopper, 3)})
    before = lake.client.get("/v1/catalogs/erase-shop", headers=lake.auth()).json
    response = lake.client.delete("/v1/catalogs/erase-shop/shoppers/shopper-1",
                                  headers=lake.auth())
    assert response.status_code == 200
    assert response.json["events_erased"] == 3
    assert response.json["events_version"] == before["events_version"] + 1
    assert _event_count(lake, "shopper-1") == 0 and _event_count(lake, "shopper-2") == 3
    again = lake.client.delete("/v1/catalogs/erase-shop/shoppers/shopper-1",
                               headers=lake.auth())
    assert again.status_code == 200 and again.json["events_erased"] == 0
    assert lake.client.delete("/v1/catalogs/nowhere/shoppers/shopper-1",
                              headers=lake.auth()).status_code == 404


def test_catalog_events_honour_idempotency_key(lake):
    _catalog(lake, "idem-shop")
    shopper = f"s-{uuid.uuid4().hex[:6]}"
    body = {"events": _events(lake, "idem-shop", shopper, 2)}
    headers = {**lake.auth(), "Idempotency-Key": f"ev-{uuid.uuid4().hex[:8]}"}
    first = lake.client.post("/v1/catalogs/idem-shop/events", json=body, headers=headers)
    second = lake.client.post("/v1/catalogs/idem-shop/events", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.json == first.json and second.headers["Idempotent-Replayed"] == "true"
    assert _event_count(lake, shopper) == 2  # stored once
    other = lake.client.post("/v1/catalogs/idem-shop/events", headers=headers,
                             json={"events": _events(lake, "idem-shop", shopper, 1)})
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_conflict"
    # Without a key the same request is new data each time.
    lake.client.post("/v1/catalogs/idem-shop/events", json=body, headers=lake.auth())
    assert _event_count(lake, shopper) == 4


def test_reading_the_webhook_secret_never_creates_one(lake):
    name = f"secretless-{uuid.uuid4().hex[:6]}"
    headers = lake.auth(name)
    made_with_tenant = lake.client.get("/v1/webhooks/secret", headers=headers)
    assert made_with_tenant.status_code == 200
    assert made_with_tenant.json["secret"].startswith("whsec_")
    with lake.db.session() as session:  # a tenant from before secrets came with tenants
        session.execute(update(Tenant).where(Tenant.name == name).values(webhook_secret=None))
    assert lake.client.get("/v1/webhooks/secret", headers=headers).status_code == 404
    assert lake.client.get("/v1/webhooks/secret", headers=headers).status_code == 404
    created = lake.client.post("/v1/webhooks/secret", headers=headers)
    assert created.status_code == 201 and created.json["secret"].startswith("whsec_")
    again = lake.client.post("/v1/webhooks/secret", headers=headers)
    assert again.status_code == 200 and again.json == created.json
    assert lake.client.get("/v1/webhooks/secret", headers=headers).json == created.json
