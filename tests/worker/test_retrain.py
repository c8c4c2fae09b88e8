"""Retraining by event volume: the sweeper submits `train_recommender` for a catalog that
gathered enough new events, once, and not again until more arrive."""

from __future__ import annotations

import dataclasses

import pytest
import redis
from sqlalchemy import select, update

from shared.models import Catalog, Job, RecommenderModel, utcnow
from shared.queues import make_celery
from tests.support.stack import build_stack
from worker.sweeper import sweep

THRESHOLD = 5


@pytest.fixture(scope="module")
def shop(redis_server, database_factory):
    """The API on a database and Redis db of its own, and a catalog `retrain` with 2 items."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/13", with_worker=False)
    redis.Redis.from_url(built.settings.broker_url).flushdb()
    response = built.client.put("/v1/catalogs/retrain/items", headers=built.auth(), json={
        "items": [{"id": "a", "title": "Red stapler"}, {"id": "b", "title": "Staples"}]})
    assert response.status_code == 202, response.json
    yield built
    built.stop()


def _add_events(stack, count: int) -> None:
    events = [{"shopper_id": f"s{n}", "item_id": "ab"[n % 2]} for n in range(count)]
    response = stack.client.post("/v1/catalogs/retrain/events", json={"events": events},
                                 headers=stack.auth())
    assert response.status_code == 202, response.json


def _trainings(stack) -> list[Job]:
    with stack.db.session() as session:
        return list(session.scalars(select(Job).where(Job.type == "train_recommender")))


def test_enough_new_events_submit_one_training_until_more_arrive(shop):
    settings = dataclasses.replace(shop.settings, retrain_after_events=THRESHOLD)
    celery = make_celery(settings)
    broker = redis.Redis.from_url(settings.broker_url)
    _add_events(shop, THRESHOLD - 1)
    assert sweep(shop.db, settings, celery).trainings_submitted == 0
    _add_events(shop, 1)
    assert sweep(shop.db, settings, celery).trainings_submitted == 1
    [job] = _trainings(shop)
    assert job.input == {"catalog_id": "retrain"} and job.status == "queued"
    # On its own lane (Redis keeps one list per priority level: training, training:1 ..).
    assert sum(broker.llen(f"training:{n}" if n else "training") for n in range(10)) == 1
    # Queued (then running): no second job, however often the sweeper passes.
    assert sweep(shop.db, settings, celery).trainings_submitted == 0
    assert sweep(shop.db, dataclasses.replace(settings, retrain_after_events=0),
                 celery).trainings_submitted == 0

    # It trained on those 5 events: only 5 more make the next one due.
    with shop.db.session() as session:
        session.execute(update(Job).where(Job.id == job.id).values(status="succeeded"))
        catalog = session.scalar(select(Catalog).where(Catalog.name == "retrain"))
        session.add(RecommenderModel(
            catalog_id=catalog.id, version=1, job_id=job.id, created_at=utcnow(), config={},
            item_ids=["a", "b"], metrics={"events_at_training": THRESHOLD}, blend={},
            training_seconds=1.0, weights=b""))
        catalog.recommender_version = 1
    assert sweep(shop.db, settings, celery).trainings_submitted == 0
    _add_events(shop, THRESHOLD)
    assert sweep(shop.db, settings, celery).trainings_submitted == 1
    assert len(_trainings(shop)) == 2
