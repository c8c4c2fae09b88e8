"""The sweeper against a real database and Redis: what it re-sends, settles and leaves."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import delete, select

from shared import lifecycle
from shared.models import Catalog, CatalogItem, Job, WebhookDelivery, utcnow
from shared.queues import make_celery
from shared.status import JobStatus
from tests.support.rows import insert_job, job_row, tenant_id, waiting
from worker.sweeper import sweep


@pytest.fixture
def swept(own_stack):
    """The API on a database and a Redis db of this module's own (a sweep acts on every row
    it finds, so other modules' jobs must not be in its way, nor these in theirs), a tenant
    of this test's own, and a helper that inserts its job rows. Each test settles what it
    left behind (its own rows and messages), so the next one counts only its own."""
    stack = own_stack
    celery = make_celery(stack.settings)
    broker = redis.Redis.from_url(stack.settings.broker_url)
    tenant = tenant_id(stack, f"sweeper-{uuid.uuid4().hex[:8]}")
    assert _waiting(broker) == 0, "an earlier test left messages behind"

    def insert(**values) -> uuid.UUID:
        return insert_job(stack, tenant, **values)

    yield stack, celery, broker, insert
    with stack.db.session() as session:
        session.execute(Job.__table__.update()
                        .where(Job.tenant_id == tenant, Job.status.in_(["queued", "running"]))
                        .values(status="canceled"))
        session.execute(delete(CatalogItem).where(CatalogItem.catalog_id.in_(
            select(Catalog.id).where(Catalog.tenant_id == tenant))))
        session.execute(WebhookDelivery.__table__.update()
                        .where(WebhookDelivery.tenant_id == tenant,
                               WebhookDelivery.status == "pending")
                        .values(status="failed", next_attempt_at=None))
    for queue in ("cpu", "gpu", "maintenance", "webhooks"):
        broker.delete(queue, *(f"{queue}:{p}" for p in range(1, 10)))


_waiting = waiting


def _row(stack, job_id) -> Job:
    return job_row(stack, job_id)


def test_never_sent_jobs_are_sent_at_once(swept):
    stack, celery, broker, insert = swept
    job_id = insert(enqueued_at=None)
    report = sweep(stack.db, stack.settings, celery)
    assert report.resent_queued == 1
    assert _waiting(broker) == 1
    assert _row(stack, job_id).enqueued_at is not None


def test_old_sends_are_resent_only_when_their_queue_is_empty(swept):
    stack, celery, broker, insert = swept
    long_ago, just_now = utcnow() - timedelta(minutes=10), utcnow()
    old_id = insert(enqueued_at=long_ago)
    recent_id = insert(enqueued_at=just_now)  # sent just now: left alone
    report = sweep(stack.db, stack.settings, celery)
    assert (report.resent_queued, report.left_in_backlog) == (1, 0)
    assert _row(stack, old_id).enqueued_at > long_ago
    assert _row(stack, recent_id).enqueued_at == just_now
    # Now the queue holds a message: an old job is presumed to be waiting in that backlog.
    insert(enqueued_at=long_ago)
    report = sweep(stack.db, stack.settings, celery)
    assert (report.resent_queued, report.left_in_backlog) == (0, 1)


def test_stale_running_jobs_are_resent_then_failed_when_out_of_attempts(swept):
    stack, celery, broker, insert = swept
    stale = utcnow() - timedelta(seconds=stack.settings.stale_after_s("diag_sleep") + 5)
    retry_id = insert(status="running", attempts=1, started_at=stale, worker_host="gone")
    lost_id = insert(status="running", attempts=2, started_at=stale, worker_host="gone")
    fresh_id = insert(status="running", attempts=1, started_at=utcnow(), worker_host="busy")
    report = sweep(stack.db, stack.settings, celery)
    assert (report.resent_stale, report.failed_lost) == (1, 1)
    assert _row(stack, retry_id).status == JobStatus.RUNNING
    lost = _row(stack, lost_id)
    assert lost.status == JobStatus.FAILED and lost.error_code == "worker_lost"
    assert _row(stack, fresh_id).status == JobStatus.RUNNING
    assert _waiting(broker) == 1


def test_catalog_items_left_unembedded_are_queued_again(swept):
    stack, celery, broker, insert = swept
    tenant = _row(stack, insert(status="canceled")).tenant_id
    with stack.db.session() as session:
        catalog = Catalog(tenant_id=tenant, name="lost-work", version=1, events_version=0)
        session.add(catalog)
        session.flush()
        session.add(CatalogItem(catalog_id=catalog.id, item_id="1", title="Stapler",
                                content_hash="h", embedded_hash=None, in_stock=True,
                                popularity=0.0, updated_at=utcnow() - timedelta(minutes=5)))
    report = sweep(stack.db, stack.settings, celery)
    assert report.catalogs_to_embed == 1
    # Embedding has a lane of its own: nothing of it waits in front of cpu jobs.
    assert (_waiting(broker, "embeddings"), _waiting(broker)) == (1, 0)


def test_held_jobs_are_released_up_to_the_tenants_cap(swept):
    stack, celery, broker, insert = swept
    cap = stack.settings.tenant_in_flight["cpu"]
    held = [insert(enqueued_at=None, priority=p % 10) for p in range(cap + 3)]
    report = sweep(stack.db, stack.settings, celery)
    assert report.resent_queued == cap and _waiting(broker) == cap
    rows = [_row(stack, job_id) for job_id in held]
    sent = [row for row in rows if row.enqueued_at is not None]
    # Highest priority first; the rest stay queued in the database, not lost.
    assert sorted(r.priority for r in sent) == sorted(r.priority for r in rows)[-cap:]
    assert all(r.status == JobStatus.QUEUED for r in rows)
    # A slot frees up (one of them ends): the next sweep releases exactly one more.
    with stack.db.session() as session:
        session.execute(Job.__table__.update().where(Job.id == sent[0].id)
                        .values(status="succeeded", finished_at=utcnow()))
    assert sweep(stack.db, stack.settings, celery).resent_queued == 1


def test_running_jobs_whose_worker_went_silent_are_rerun_at_once(swept):
    from shared.heartbeats import beat

    stack, celery, broker, insert = swept
    silent = utcnow() - timedelta(seconds=stack.settings.worker_lost_after_s + 1)
    with stack.db.session() as session:
        beat(session, "dead-host", 4242, "cpu", now=silent)
        beat(session, "live-host", 4243, "cpu")
    # Started just now: far within any time limit, yet its process is gone.
    orphan = insert(status="running", attempts=1, started_at=utcnow(), worker_host="dead-host",
                    worker_pid=4242, enqueued_at=utcnow())
    alive = insert(status="running", attempts=1, started_at=utcnow(), worker_host="live-host",
                   worker_pid=4243, enqueued_at=utcnow())
    out_of_attempts = insert(status="running", attempts=2, started_at=utcnow(),
                             worker_host="dead-host", worker_pid=4242, enqueued_at=utcnow())
    report = sweep(stack.db, stack.settings, celery)
    assert (report.resent_stale, report.failed_lost) == (1, 1)
    assert _waiting(broker) == 1
    assert _row(stack, orphan).status == JobStatus.RUNNING  # its re-run takes it over
    assert _row(stack, alive).status == JobStatus.RUNNING
    lost = _row(stack, out_of_attempts)
    assert lost.status == JobStatus.FAILED and lost.error_code == "worker_lost"


def test_with_the_broker_down_nothing_is_marked_sent(swept):
    stack, _, broker, insert = swept
    never_sent = insert(enqueued_at=None)
    stale = utcnow() - timedelta(seconds=stack.settings.stale_after_s("diag_sleep") + 5)
    lost_run = insert(status="running", attempts=1, started_at=stale, worker_host="gone")
    dead_broker = make_celery(dataclasses.replace(stack.settings,
                                                  broker_url="redis://127.0.0.1:1/0"))
    report = sweep(stack.db, stack.settings, dead_broker)
    assert report.send_failures >= 2 and report.resent_queued == report.resent_stale == 0
    assert _row(stack, never_sent).enqueued_at is None  # the next sweep sends it
    assert _row(stack, lost_run).status == JobStatus.RUNNING
    assert _waiting(broker) == 0


def test_a_job_of_a_type_no_queue_serves_is_left_alone(swept):
    stack, celery, broker, insert = swept
    stale = utcnow() - timedelta(hours=1)
    queued = insert(type="retired_type", enqueued_at=None)
    running = insert(type="retired_type", status="running", attempts=5, started_at=stale,
                     worker_host="gone")
    report = sweep(stack.db, stack.settings, celery)
    assert (report.resent_queued, report.resent_stale, report.failed_lost) == (0, 0, 0)
    assert _row(stack, queued).enqueued_at is None
    assert _row(stack, running).status == JobStatus.RUNNING
    assert _waiting(broker) == 0


def test_recently_changed_catalog_items_are_left_to_their_own_task(swept):
    stack, celery, broker, insert = swept
    tenant = _row(stack, insert(status="canceled")).tenant_id
    with stack.db.session() as session:
        catalog = Catalog(tenant_id=tenant, name="in-progress", version=1, events_version=0)
        session.add(catalog)
        session.flush()
        session.add(CatalogItem(catalog_id=catalog.id, item_id="1", title="Stapler",
                                content_hash="h", embedded_hash=None, in_stock=True,
                                popularity=0.0, updated_at=utcnow()))
    assert sweep(stack.db, stack.settings, celery).catalogs_to_embed == 0


def test_a_run_is_judged_stale_by_its_own_type_limits(swept):
    """The query looks back by the shortest limit of any type; a run of a type with longer
    limits (user_profile: 360 s hard) is not settled before its own limit plus grace."""
    stack, celery, broker, insert = swept
    a_minute_ago = utcnow() - timedelta(seconds=60)
    assert stack.settings.stale_after_s("diag_sleep") < 60 < \
        stack.settings.stale_after_s("user_profile")
    running = insert(type="user_profile", status="running", attempts=2,
                     started_at=a_minute_ago, worker_host="elsewhere",
                     input={"events": [{"type": "view", "timestamp": "2011-01-01T00:00:00Z",
                                        "title": "MUG"}]})
    report = sweep(stack.db, stack.settings, celery)
    assert (report.resent_stale, report.failed_lost) == (0, 0)
    assert _row(stack, running).status == JobStatus.RUNNING
    assert _waiting(broker) == 0


def test_a_due_delivery_is_sent_again_only_once_its_message_is_presumed_lost(swept):
    stack, celery, broker, insert = swept
    job_id = insert(status="running", attempts=1, started_at=utcnow(),
                    webhook={"url": "http://127.0.0.1:9/h", "events": ["completed"]})
    with stack.db.session() as session:  # records the delivery and sends its message
        lifecycle.transition(session, job_id, from_statuses=[JobStatus.RUNNING],
                             to=JobStatus.SUCCEEDED, result={})
    with stack.db.session() as session:
        delivery = session.scalars(select(WebhookDelivery)
                                   .where(WebhookDelivery.job_id == job_id)).one()
    sent_at = delivery.dispatched_for
    queued = _waiting(broker, "webhooks")
    soon = sent_at + timedelta(seconds=1)
    assert sweep(stack.db, stack.settings, celery, now=soon).webhooks_sent == 0
    assert _waiting(broker, "webhooks") == queued  # its message may still be on its way
    later = sent_at + timedelta(seconds=stack.settings.requeue_after_s + 1)
    assert sweep(stack.db, stack.settings, celery, now=later).webhooks_sent == 1
    assert _waiting(broker, "webhooks") == queued + 1
    with stack.db.session() as session:
        assert session.get(WebhookDelivery, delivery.id).dispatched_for == later
