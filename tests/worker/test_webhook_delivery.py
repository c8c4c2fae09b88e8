"""Delivery decisions in process, against the real database, Redis and a real receiver:
the SSRF guard at send time, the retry schedule, giving up, 410 and lost senders."""

from __future__ import annotations

import dataclasses
import random
import socket
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from shared import lifecycle
from shared.models import Job, Tenant, WebhookDelivery, utcnow
from shared.queues import make_celery
from shared.ssrf import UnsafeUrl
from shared.status import JobStatus
from worker.sweeper import sweep
from worker.webhooks.delivery import deliver
from worker.webhooks.schedule import gives_up, next_delay_s
from worker.webhooks.sender import _pinned_connector, post

DEFAULT_DELAYS = [5, 30, 120, 600, 1800, 3600, 10800]


@pytest.fixture
def hooks(api_only, receiver):
    """Settings that allow the loopback receiver, and a maker of committed `completed` events."""
    settings = dataclasses.replace(api_only.settings, webhook_allowlist=["127.0.0.1/32"],
                                   webhook_timeout_s=1.0)
    celery = make_celery(settings)
    api_only.key("hooks")
    with api_only.db.session() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == "hooks"))

    def completed_event(url: str) -> uuid.UUID:
        job_id = uuid.uuid4()
        with api_only.db.session() as session:
            session.add(Job(id=job_id, tenant_id=tenant_id, type="diag_sleep",
                            status=JobStatus.RUNNING.value, input={"seconds": 0},
                            webhook={"url": url, "events": ["completed"]}, attempts=1,
                            started_at=utcnow()))
        with api_only.db.session() as session:
            lifecycle.transition(session, job_id, from_statuses=[JobStatus.RUNNING],
                                 to=JobStatus.SUCCEEDED, result={"ok": True})
        with api_only.db.session() as session:
            return session.scalar(select(WebhookDelivery.id)
                                  .where(WebhookDelivery.job_id == job_id))

    return api_only, settings, celery, completed_event


def _delivery(stack, delivery_id) -> WebhookDelivery:
    with stack.db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        delivery.attempts  # noqa: B018 (load them while the session is open)
        return delivery


def test_refused_addresses_are_never_contacted(monkeypatch):
    def no_connections(*args, **kwargs):
        raise AssertionError("a refused address must not be connected to")

    monkeypatch.setattr(socket.socket, "connect", no_connections)
    loopback = post("http://127.0.0.1:9/hook", b"{}", {}, timeout_s=1, allowlist=[])
    assert loopback.refused and "loopback" in loopback.error

    def rebinding(host, port, type):
        return [(socket.AF_INET, type, 6, "", (a, port)) for a in ("93.184.216.34", "10.1.2.3")]
    mixed = post("http://shop.example/hook", b"{}", {}, timeout_s=1, allowlist=[],
                 resolve=rebinding)
    assert mixed.refused and "private" in mixed.error


def test_the_connected_address_is_checked_again(receiver):
    port = int(receiver.url("/").split(":")[2].split("/")[0])
    connect = _pinned_connector("hooks.example", port, ["127.0.0.1"], allowlist=[])
    with pytest.raises(UnsafeUrl, match="loopback"):
        connect(("hooks.example", port), 1)
    allowed = _pinned_connector("hooks.example", port, ["127.0.0.1"], allowlist=["127.0.0.1/32"])
    allowed(("hooks.example", port), 1).close()


def test_the_default_schedule_retries_for_more_than_a_day():
    rng, elapsed, attempts = random.Random(7), 0.0, 1
    start = utcnow()
    while not gives_up(start, start + timedelta(seconds=elapsed), 86400):
        elapsed += next_delay_s(attempts, DEFAULT_DELAYS, rng)
        attempts += 1
    assert elapsed >= 86400 and 10 <= attempts <= 20
    first = [next_delay_s(n, DEFAULT_DELAYS, rng) for n in range(1, 8)]
    assert all(0.8 * base <= d <= 1.2 * base for d, base in zip(first, DEFAULT_DELAYS, strict=True))
    assert 0.8 * 10800 <= next_delay_s(40, DEFAULT_DELAYS, rng) <= 1.2 * 10800


def test_a_long_wait_is_kept_in_the_database_and_sent_by_the_sweeper(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    settings = dataclasses.replace(settings, webhook_retry_delays_s=[600.0])
    path = f"/later-{uuid.uuid4().hex[:6]}"
    delivery_id = completed_event(receiver.script(path, 503, 200))

    assert deliver(stack.db, settings, celery, delivery_id) == "pending"
    waiting = _delivery(stack, delivery_id)
    wait_s = (waiting.next_attempt_at - utcnow()).total_seconds()
    assert 0.8 * 600 - 5 <= wait_s <= 1.2 * 600
    assert waiting.dispatched_for is None  # no countdown message: nothing for Redis to hold
    assert deliver(stack.db, settings, celery, delivery_id) == "skipped"  # not due yet

    assert sweep(stack.db, settings, celery).webhooks_sent == 0
    due = waiting.next_attempt_at + timedelta(seconds=1)
    assert sweep(stack.db, settings, celery, now=due).webhooks_sent >= 1
    assert _delivery(stack, delivery_id).dispatched_for == due


def test_a_completed_event_gives_up_after_the_retry_window(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    settings = dataclasses.replace(settings, webhook_retry_window_s=0.001)
    delivery_id = completed_event(receiver.script(f"/down-{uuid.uuid4().hex[:6]}", 500))
    assert deliver(stack.db, settings, celery, delivery_id) == "failed"
    delivery = _delivery(stack, delivery_id)
    assert delivery.status == "failed" and delivery.last_error == "HTTP 500"
    assert [a.status_code for a in delivery.attempts] == [500]


def test_410_also_stops_other_pending_events_to_that_url(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    url = receiver.script(f"/gone-{uuid.uuid4().hex[:6]}", 410)
    waiting, gone = completed_event(url), completed_event(url)
    assert deliver(stack.db, settings, celery, gone) == "disabled"
    assert _delivery(stack, waiting).status == "disabled"
    assert deliver(stack.db, settings, celery, waiting) == "skipped"


def test_a_delivery_whose_sender_died_is_released_by_the_sweeper(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    delivery_id = completed_event(receiver.script(f"/lost-{uuid.uuid4().hex[:6]}", 200))
    long_ago = utcnow() - timedelta(minutes=10)
    with stack.db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        delivery.status, delivery.sending_since = "sending", long_ago
    report = sweep(stack.db, settings, celery)
    assert report.webhooks_released >= 1 and report.webhooks_sent >= 1
    assert deliver(stack.db, settings, celery, delivery_id) == "succeeded"
