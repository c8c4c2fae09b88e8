"""The catalog matrix a cpu worker ranks with (worker/recommendation/index.py): the faiss HNSW
path at VITRINE_ANN_MIN_ITEMS, its agreement with exact search, embeddings that outlive a
worker restart, and the per-process cache that follows the catalog's version.

One cpu worker process at a time, so that the process that cached a version is the one that
runs the next job."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.dispatch import send_catalog_embedding
from shared.models import Catalog, Tenant
from shared.queues import EMBED_CATALOG_TASK
from tests.support.events import office_catalog_items, office_sequences
from tests.support.processes import wait_for
from tests.support.stack import start_cpu_worker

# One backend: what is tested is the worker's matrix and cache, which read the database the
# same way on both (and each run embeds 1,300 items, ~90 s).
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("own_stack", ["sqlite"], indirect=True)]

CATALOG = "office-ann"
# More items than the ANN_CANDIDATES (1,000) the HNSW index proposes: its pool is a real
# subset, so candidates it missed would be missing from the ranking.
ITEMS = 1300
QUERIES = 20


def _stats(stack) -> dict:
    response = stack.client.get(f"/v1/catalogs/{CATALOG}", headers=stack.auth())
    assert response.status_code == 200, response.json
    return response.json


def _upload(stack, items: list[dict]) -> dict[str, int]:
    """`items` upserted 500 a request (the API takes 1,000); the reports summed."""
    total: dict[str, int] = {}
    for start in range(0, len(items), 500):
        response = stack.client.put(f"/v1/catalogs/{CATALOG}/items",
                                    json={"items": items[start:start + 500]},
                                    headers=stack.auth())
        assert response.status_code == 202, response.json
        for key in ("inserted", "updated", "unchanged", "to_embed"):
            total[key] = total.get(key, 0) + response.json[key]
    return total


def _embed_tasks_done(worker) -> list[str]:
    """The worker's log lines of embed tasks that ended ("... succeeded in 0.01s: 0")."""
    return [line for line in worker.lines
            if f"Task {EMBED_CATALOG_TASK}[" in line and " succeeded in " in line]


def _histories() -> list[list[dict]]:
    """Real shoppers' first three items within the catalog, one history each."""
    histories = []
    for sequence in office_sequences().values():
        kept = [item for item in dict.fromkeys(sequence) if int(item) < ITEMS][:3]
        if len(kept) == 3:
            histories.append([{"item_id": item, "event": "purchase"} for item in kept])
        if len(histories) == QUERIES:
            return histories
    raise AssertionError("too few shoppers with three items in the catalog")


def _run_all(stack, histories: list[list[dict]]) -> list[dict]:
    submitted = [stack.submit("recommendation", {"catalog_id": CATALOG, "history": h, "k": 10})
                 for h in histories]
    assert all(s.status_code == 202 for s in submitted), [s.json for s in submitted]
    jobs = [stack.wait(s.json["id"], timeout=300) for s in submitted]
    assert all(j["status"] == "succeeded" for j in jobs), [j["error"] for j in jobs]
    return [j["result"] for j in jobs]


@pytest.fixture(scope="module")
def searched(own_stack):
    """The catalog ranked by a worker searching exactly, then, after a restart with
    VITRINE_ANN_MIN_ITEMS=100, by one searching with HNSW; what each saw and logged. The
    HNSW worker is left running for the module's tests."""
    items = [i for i in office_catalog_items() if int(i["id"]) < ITEMS]
    histories = _histories()
    exact_worker = start_cpu_worker(own_stack.env, name=f"cpu-exact-{own_stack.backend}",
                                    concurrency=1)
    try:
        assert _upload(own_stack, items)["to_embed"] == len(items)
        wait_for(lambda: _stats(own_stack)["embedded"] == len(items), 600, interval=1,
                 what="the catalog to be embedded")
        exact = _run_all(own_stack, histories)
    finally:
        exact_worker.stop()
    before_restart = _stats(own_stack)
    hnsw_worker = start_cpu_worker(dict(own_stack.env, VITRINE_ANN_MIN_ITEMS="100"),
                                   name=f"cpu-hnsw-{own_stack.backend}", concurrency=1)
    own_stack.workers.append(hnsw_worker)  # stopped with the stack
    # What a client re-sending its feed, and the sweeper re-sending embedding work, would
    # ask of the new worker: both must find nothing to embed.
    again = _upload(own_stack, items)
    with own_stack.db.session() as session:
        catalog_pk = session.scalar(select(Catalog.id).join(Tenant).where(
            Tenant.name == "acme", Catalog.name == CATALOG))
    assert send_catalog_embedding(own_stack.celery, catalog_pk)
    wait_for(lambda: _embed_tasks_done(hnsw_worker), 60, what="the embed task to run")
    hnsw = _run_all(own_stack, histories)
    return {"items": {i["id"]: i for i in items}, "histories": histories, "exact": exact,
            "hnsw": hnsw, "before_restart": before_restart, "after_restart": _stats(own_stack),
            "again": again, "worker": hnsw_worker}


def test_hnsw_candidates_rank_as_exact_search_does(searched):
    assert {r["search"] for r in searched["exact"]} == {"exact"}
    assert {r["search"] for r in searched["hnsw"]} == {"hnsw"}  # the setting reached it
    overlaps = [len({i["id"] for i in e["items"]} & {i["id"] for i in h["items"]}) / 10
                for e, h in zip(searched["exact"], searched["hnsw"], strict=True)]
    assert all(len(r["items"]) == 10 for r in searched["exact"] + searched["hnsw"])
    assert sum(overlaps) / len(overlaps) >= 0.9, overlaps
    assert min(overlaps) >= 0.7, overlaps


def test_a_worker_restart_re_embeds_nothing(searched):
    before, after = searched["before_restart"], searched["after_restart"]
    assert (after["embedded"], after["items"]) == (before["embedded"], before["items"])
    assert after["version"] == before["version"]  # each embedded chunk moves it on
    assert (searched["again"]["unchanged"], searched["again"]["to_embed"]) == (ITEMS, 0)
    worker = searched["worker"]
    assert worker.count("event=catalog_chunk_embedded") == 0, worker.output[-3000:]
    # The embed task it was sent ran and embedded 0 items (the task returns the count).
    ran = _embed_tasks_done(worker)
    assert ran and all(line.rstrip().endswith(": 0") for line in ran), ran
    assert all(r["not_yet_embedded"] == 0 and r["catalog_items"] == ITEMS
               for r in searched["hnsw"])


def test_the_next_job_sees_a_delete_and_a_retitle(own_stack, searched):
    history = searched["histories"][0]
    version = _stats(own_stack)["version"]
    doomed = searched["hnsw"][0]["items"][0]["id"]  # cached by the worker's one process
    assert own_stack.client.delete(f"/v1/catalogs/{CATALOG}/items/{doomed}",
                                   headers=own_stack.auth()).status_code == 204
    first = searched["items"][history[-1]["item_id"]]
    retitled = dict(first, title="Renamed: " + first["title"])
    changed = own_stack.client.put(f"/v1/catalogs/{CATALOG}/items",
                                   json={"items": [retitled]}, headers=own_stack.auth()).json
    assert (changed["updated"], changed["to_embed"]) == (1, 1)
    wait_for(lambda: _stats(own_stack)["embedded"] == ITEMS - 1, 60, interval=0.3,
             what="the retitled item to be embedded")
    result = _run_all(own_stack, [history])[0]
    assert doomed not in {i["id"] for i in result["items"]}
    assert any(retitled["title"] in i["reason_text"] for i in result["items"]), \
        [i["reason_text"] for i in result["items"]]
    assert len(result["items"]) == 10
    assert result["catalog_version"] > version and result["search"] == "hnsw"
