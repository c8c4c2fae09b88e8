"""`personalised_recommendations` end to end over HTTP: real cpu and gpu workers, the real
embedding model and SmolLM2, the Office catalog and real shoppers' sequences from data/.

Each pitch is read as a shop manager would: it names the recommended product, names no
item the shopper did not buy, cart or view, fits its channel, and passes the benchmark's
independent fact check (bench/copy_audit.py, which shares no code with the gate).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bench.copy_audit import meta_hits, unsupported
from shared.schemas.personalised import EMAIL_SUBJECT_LIMIT, PITCH_LIMITS
from tests.support.events import office_slice
from tests.support.processes import wait_for
from tests.support.stack import build_stack, start_gpu_worker
from worker.generation.facts import short_name
from worker.personalised.phrases import recognisable_names

pytestmark = pytest.mark.slow

SLICE_ITEMS = 400
START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def chain(redis_server, database_factory):
    """The API, a cpu worker and a gpu worker on SQLite, with the Office slice embedded."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/12", VITRINE_TORCH_THREADS="1")
    built.workers.append(start_gpu_worker(built.env, name="gpu-chain"))
    items, sequences = office_slice(SLICE_ITEMS)
    response = built.client.put("/v1/catalogs/office/items", json={"items": items},
                                headers=built.auth())
    assert response.status_code == 202, response.json
    wait_for(lambda: built.client.get("/v1/catalogs/office", headers=built.auth())
             .json["embedded"] == len(items), 300, interval=0.5, what="the catalog embedding")
    events = [{"shopper_id": user, "item_id": item}
              for user, sequence in sequences.items() for item in sequence]
    for start in range(0, len(events), 5000):
        response = built.client.post("/v1/catalogs/office/events",
                                     json={"events": events[start:start + 5000]},
                                     headers=built.auth())
        assert response.status_code == 202, response.json
    yield built, {i["id"]: i for i in items}, sequences
    built.stop()


def shopper_events(sequence: list[str], items: dict[str, dict]) -> list[dict]:
    """A shopper's sequence as purchases a day apart, at the catalog's prices."""
    return [{"type": "purchase", "item_id": item_id, "price": items[item_id]["price"],
             "timestamp": (START + timedelta(days=day)).isoformat()}
            for day, item_id in enumerate(sequence)]


def _names(item: dict) -> list[str]:
    return recognisable_names(short_name(item["title"], item.get("brand")), item.get("brand"))


def assert_pitches_are_publishable(result: dict, sequence: list[str], items: dict,
                                   channel: str) -> None:
    history = set(sequence)
    limit = PITCH_LIMITS[channel]
    kept = {v["text"] for g in result["generations"] for v in g["sentences"] if v["kept"]}
    # One card per product: no two say the same, nor pitch listings of one name.
    pitches = [entry["pitch"] for entry in result["items"]]
    assert len(set(pitches)) == len(pitches), pitches
    names = [short_name(items[e["id"]]["title"]).lower() for e in result["items"]]
    assert not any(a in b for i, a in enumerate(names) for b in names[i + 1:]), names
    for entry in result["items"]:
        pitch, item = entry["pitch"], items[entry["id"]]
        assert entry["id"] not in history  # exclude_seen
        assert len(pitch) <= limit, pitch
        if channel == "email":
            assert entry["subject"] and len(entry["subject"]) <= EMAIL_SUBJECT_LIMIT
        assert any(n.lower() in pitch.lower() for n in _names(item)), (pitch, item["title"])
        if entry["because"]:
            assert entry["because"]["item_id"] in history
            assert entry["because"]["name"] in pitch
            # Never "Because you bought the X: meet the X" (a colour variant of the same).
            own = short_name(item["title"], item.get("brand")).lower()
            named = entry["because"]["name"].lower()
            assert named not in own and own not in named, pitch
        # Any other catalog item the pitch names must be one of the shopper's own.
        allowed = [short_name(i["title"], i.get("brand")).lower()
                   for i in (item, *(items[h] for h in history))]
        for other_id, other in items.items():
            name = short_name(other["title"], other.get("brand")).lower()
            if other_id != entry["id"] and len(name.split()) >= 3 and name in pitch.lower() \
                    and not any(name in mine for mine in allowed):
                assert other_id in history, (pitch, other["title"])
        source = json.dumps([item, *(items[i] for i in sequence),
                             result["shopper"]["top_tags"]], ensure_ascii=False)
        assert unsupported(pitch, source) == {"numbers": [], "materials": [], "names": []}, \
            pitch
        assert meta_hits(pitch) == [], pitch
        for part in entry["pitch_sources"]:
            assert part["text"] in pitch
            if part["source"] == "model":  # a verified sentence (its first letter may be
                assert any(k[1:] == part["text"][1:] for k in kept)  # lowered after a colon)
        assert all(check["passed"] for check in entry["checks"].values()), entry["checks"]


def test_pitches_for_real_shoppers_on_every_channel(chain):
    stack, items, sequences = chain
    shoppers = [s for s in sequences.values() if 5 <= len(s) <= 20][:4]
    channels = ["onsite", "push", "email", "social"]
    submitted = []
    for sequence, channel in zip(shoppers, channels, strict=True):
        response = stack.submit("personalised_recommendations", {
            "catalog_id": "office", "events": shopper_events(sequence, items), "k": 3,
            "channel": channel, "seed": 11})
        assert response.status_code == 202, response.json
        submitted.append((response.json["id"], sequence, channel))
    linked = 0
    for job_id, sequence, channel in submitted:
        job = stack.wait(job_id, timeout=900)
        assert job["status"] == "succeeded", job["error"]
        result = job["result"]
        assert result["channel"] == channel and len(result["items"]) == 3
        assert [i["rank"] for i in result["items"]] == [1, 2, 3]
        assert result["shopper"]["segment"] and result["shopper"]["top_tags"]
        assert_pitches_are_publishable(result, sequence, items, channel)
        linked += sum(1 for i in result["items"] if i["because"])
        assert job["model"]["name"].startswith("HuggingFaceTB/SmolLM2-135M-Instruct")
        assert result["timings"]["rank_s"] is not None
    assert linked >= 6  # most pitches connect to the shopper's own history


def test_unknown_catalog_and_items_are_4xx(chain):
    stack, items, _ = chain
    event = {"type": "view", "item_id": "1", "timestamp": START.isoformat()}
    missing = stack.submit("personalised_recommendations",
                           {"catalog_id": "nope", "events": [event]})
    assert missing.status_code == 404
    unknown = stack.submit("personalised_recommendations",
                           {"catalog_id": "office", "events": [{**event, "item_id": "999999"}]})
    assert unknown.status_code == 422
    assert unknown.json["error"]["details"][0]["path"] == "input.events[0].item_id"
    bad_channel = stack.submit("personalised_recommendations",
                               {"catalog_id": "office", "events": [event], "channel": "fax"})
    assert bad_channel.status_code == 422
    assert "input.channel" in json.dumps(bad_channel.json)


def test_cancel_mid_chain_stops_the_writing_step(chain):
    stack, items, sequences = chain
    sequence = next(s for s in sequences.values() if len(s) >= 6)
    job_id = stack.submit("personalised_recommendations", {
        "catalog_id": "office", "events": shopper_events(sequence, items), "k": 10,
        "channel": "email"}).json["id"]
    wait_for(lambda: (stack.get(job_id)["progress"] or {}).get("step") == "write", 300,
             interval=0.2, what="the writing step to start")
    assert stack.client.post(f"/v1/jobs/{job_id}/cancel",
                             headers=stack.auth()).status_code == 200
    gpu = stack.workers[-1]
    wait_for(lambda: gpu.count(f"event=job_stopped job_id={job_id}") == 1, 120,
             what="the writing step to stop")
    job = stack.get(job_id)
    assert job["status"] == "canceled" and job["result"] is None


def test_a_failing_step_fails_the_job_with_the_step_named(chain):
    stack, items, sequences = chain
    # Both cpu processes busy, so the job waits in the queue while its catalog goes away.
    blockers = [stack.submit("diag_sleep", {"seconds": 3}).json["id"] for _ in range(2)]
    for blocker in blockers:
        stack.wait(blocker, until=("running",), timeout=60)
    doomed = list(items.values())[:5]
    response = stack.client.put("/v1/catalogs/doomed/items", json={"items": doomed},
                                headers=stack.auth())
    assert response.status_code == 202
    job_id = stack.submit("personalised_recommendations", {
        "catalog_id": "doomed",
        "events": shopper_events([doomed[0]["id"], doomed[1]["id"]], items)}).json["id"]
    from shared.models import Catalog

    with stack.db.session() as session:
        session.query(Catalog).filter(Catalog.name == "doomed").delete()
    job = stack.wait(job_id, timeout=120)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "invalid_input"
    assert job["error"]["message"].startswith("step rank: catalog 'doomed' no longer exists")
