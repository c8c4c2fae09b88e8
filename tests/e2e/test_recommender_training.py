"""Training a catalog's sequential recommender on its own lane, and a running cpu worker
picking each new version up, through the API with real workers and the Office data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.models import Catalog, RecommenderModel
from tests.support.events import office_slice
from tests.support.processes import start_worker, wait_for

SLICE_ITEMS = 120  # 378 shoppers, 1,975 events: training takes seconds
TINY = {"dim": 16, "layers": 1, "max_len": 10, "max_epochs": 3, "time_budget_s": 20}


@pytest.fixture(scope="module")
def trainable(stack):
    """Catalog `seq` (an Office slice, embedded, with events) and a `training` worker."""
    worker = start_worker({**stack.env, "VITRINE_TORCH_THREADS": "1"}, queues="training",
                          concurrency=1, name=f"training-{stack.backend}")
    worker.wait_for_log(" ready.", timeout=120)
    items, sequences = office_slice(SLICE_ITEMS)
    response = stack.client.put("/v1/catalogs/seq/items", json={"items": items},
                                headers=stack.auth())
    assert response.status_code == 202, response.json
    wait_for(lambda: stack.client.get("/v1/catalogs/seq", headers=stack.auth())
             .json["embedded"] == len(items), 180, interval=0.5, what="embedding")
    events = [{"shopper_id": user, "item_id": item}
              for user, sequence in sequences.items() for item in sequence]
    response = stack.client.post("/v1/catalogs/seq/events", json={"events": events},
                                 headers=stack.auth())
    assert response.status_code == 202, response.json
    yield {"sequences": sequences, "worker": worker}
    worker.stop()


def _recommend(stack, history: list[str]) -> dict:
    job = stack.run("recommendation", {"catalog_id": "seq", "k": 10, "history": [
        {"item_id": item, "event": "purchase"} for item in history]}, timeout=120)
    assert job["status"] == "succeeded", job["error"]
    return job["result"]


def _train(stack, **overrides) -> dict:
    job = stack.run("train_recommender", {"catalog_id": "seq", **TINY, **overrides},
                    timeout=240)
    assert job["status"] == "succeeded", job["error"]
    return job


def _stored_models(stack) -> int:
    with stack.db.session() as session:
        return session.scalar(select(func.count()).select_from(RecommenderModel).join(
            Catalog, Catalog.id == RecommenderModel.catalog_id).where(Catalog.name == "seq"))


def test_a_trained_version_is_used_by_the_running_worker_without_a_restart(stack, trainable):
    shopper = next(iter(trainable["sequences"].values()))
    history = shopper[:-1]
    base_version = _stored_models(stack)
    if base_version == 0:  # this test runs first; -k may run it alone or after another
        assert _recommend(stack, history)["model_version"] is None

    first = _train(stack)
    result = first["result"]
    assert result["version"] == base_version + 1
    assert result["epochs"] >= 1 and result["steps"] >= 1 and result["training_seconds"] > 0
    assert result["stopped"] in ("converged", "time_budget", "max_epochs")
    assert {"model", "text", "cooccurrence", "blend", "model_blend"} <= set(result["validation"])
    assert set(result["blend"]) == {"text", "cooccurrence", "model"}
    # Stored: the model trained again on every event, the held-out ones too, for as many
    # epochs as validation chose.
    assert result["refit"]["epochs"] == result["best_epoch"]
    assert result["refit"]["interactions"] > result["training_interactions"]
    assert first["progress"]["phase"] in ("training", "validating", "refitting")

    workers_before = stack.workers[0].count("event=family_ready family=recommendation")
    after = _recommend(stack, history)
    assert after["model_version"] == base_version + 1
    for item in after["items"]:
        assert item["evidence"]["model_score"] is not None
    assert not set(history) & {i["id"] for i in after["items"]}

    second = _train(stack, seed=7)
    assert second["result"]["version"] == base_version + 2
    assert _recommend(stack, history)["model_version"] == base_version + 2
    # Same worker processes: nothing was set up again, the new versions were loaded in place.
    assert stack.workers[0].count("event=family_ready family=recommendation") == workers_before
    assert stack.workers[0].count("event=recommender_loaded") >= 2


def test_training_reports_progress_never_blocks_short_jobs_and_can_be_canceled(stack,
                                                                               trainable):
    stored = _stored_models(stack)
    # No early stop: on a fast machine the tiny model converged before the cancel came.
    response = stack.submit("train_recommender", {"catalog_id": "seq", **TINY,
                                                  "max_epochs": 1000, "time_budget_s": 600,
                                                  "patience": 1000})
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    job = wait_for(lambda: (j := stack.get(job_id))["progress"] and
                   j["progress"].get("phase") == "training" and j, 120, interval=0.2,
                   what="training progress")
    progress = job["progress"]
    assert progress["epoch"] >= 1 and 1 <= progress["step"] <= progress["steps_per_epoch"]
    assert progress["max_epochs"] == 1000
    # A recommendation meanwhile runs on the cpu lane, not behind the training.
    assert _recommend(stack, ["1", "2"])["items"]
    assert stack.get(job_id)["status"] == "running"

    canceled = stack.client.post(f"/v1/jobs/{job_id}/cancel", headers=stack.auth())
    assert canceled.status_code == 200, canceled.json
    trainable["worker"].wait_for_log("event=training_canceled", timeout=60)
    assert stack.wait(job_id)["status"] == "canceled"
    assert _stored_models(stack) == stored
    # The lane is free again at once.
    assert _train(stack, max_epochs=1)["result"]["version"] == stored + 1


def test_training_an_unknown_catalog_is_404(stack, trainable):
    response = stack.submit("train_recommender", {"catalog_id": "no-such-catalog"})
    assert response.status_code == 404
    assert response.json["error"]["details"][0]["path"] == "input.catalog_id"
