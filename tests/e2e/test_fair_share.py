"""Fair share end to end, with workers laid out as scripts/up lays them out: a cpu worker, an
embeddings worker, a maintenance worker and beat, on PostgreSQL.

A tenant's 2,420-item catalog embeds in chunks on its own lane while its recommendations
already work; its flood of 500 jobs does not delay another tenant's job; a job's queue
position moves as jobs finish; a job whose whole worker was killed runs again within ~30 s.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime

import pytest

from shared.models import Job
from tests.support.events import office_catalog_items
from tests.support.processes import start_beat, start_worker, wait_for
from tests.support.stack import build_stack

pytestmark = pytest.mark.slow

EVENT = {"type": "purchase", "item_id": "sku-1", "price": 2.5, "quantity": 1,
         "timestamp": "2011-05-01T10:00:00Z"}
FLOOD = 500


@pytest.fixture(scope="module")
def fair(redis_server, database_factory, tmp_path_factory):
    """The API and the scripts/up worker layout, one cpu slot per tenant in flight per
    worker process (VITRINE_TENANT_IN_FLIGHT=cpu=2 for 2 processes)."""
    built = build_stack("postgresql", database_factory("postgresql"),
                        f"redis://127.0.0.1:{redis_server.port}/12", with_worker=False,
                        VITRINE_TENANT_IN_FLIGHT="cpu=2,gpu=4", VITRINE_TORCH_THREADS="1",
                        # Only heartbeats can find a dead worker quickly here.
                        VITRINE_STALE_GRACE_S="600")
    env = built.env
    for process in (start_worker(env, queues="maintenance", concurrency=2, pool="threads",
                                 name="maintenance"),
                    start_beat(env, tmp_path_factory.mktemp("beat"))):
        process.concurrency = 0  # no models
        built.workers.append(process)
    embeddings = start_worker(env, queues="embeddings", concurrency=1, name="embeddings")
    embeddings.concurrency = 1
    built.workers.append(embeddings)
    cpu = start_worker(env, queues="cpu", concurrency=2, name="cpu-fair")
    cpu.concurrency = 2
    built.workers.append(cpu)
    built.wait_workers_ready(timeout=240)
    yield built
    built.stop()


def _catalog(stack, tenant="shop-a"):
    response = stack.client.get("/v1/catalogs/office", headers=stack.auth(tenant))
    assert response.status_code == 200, response.json
    return response.json


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_large_catalog_embeds_in_chunks_and_recommends_meanwhile(fair):
    items = office_catalog_items()
    assert len(items) >= 2000
    for start in range(0, len(items), 1000):
        response = fair.client.put("/v1/catalogs/office/items",
                                   json={"items": items[start:start + 1000]},
                                   headers=fair.auth("shop-a"))
        assert response.status_code == 202, response.json
    # Some chunks in, not all: recommendations already work and say what is missing.
    first = wait_for(lambda: (p := _catalog(fair)["embedding"])["items_per_s"] and p, 180,
                     interval=0.2, what="the first chunk")
    assert first["total"] == len(items) and 0 < first["embedded"] < len(items)
    assert not first["done"] and _stamp(first["estimated_done_at"]).timestamp() > time.time()
    job = fair.run("recommendation", {"catalog_id": "office", "history": [], "k": 5},
                   "shop-a", timeout=60)
    assert job["status"] == "succeeded", job
    assert 0 < job["result"]["not_yet_embedded"] < len(items)
    assert job["result"]["catalog_items"] + job["result"]["not_yet_embedded"] == len(items)
    later = wait_for(lambda: (p := _catalog(fair)["embedding"])["embedded"]
                     > first["embedded"] and p, 120, interval=0.5, what="more chunks")
    assert later["pending"] == len(items) - later["embedded"]
    # Many small tasks, one chain: every chunk is within the size limit.
    embeddings = fair.workers[2]
    sizes = [int(line.split("items=")[1].split()[0]) for line in embeddings.lines
             if "event=catalog_chunk_embedded" in line]
    assert sizes and max(sizes) <= fair.settings.embed_chunk_items


def test_a_flood_does_not_delay_another_tenants_job(fair):
    fair.key("shop-a")
    cli = fair.app.test_cli_runner()
    assert cli.invoke(args=["tenant", "set-limits", "shop-a", "--rate", "1000",
                            "--burst", "1000"]).exit_code == 0
    flood = []
    for _ in range(FLOOD):
        response = fair.submit("diag_sleep", {"seconds": 1}, "shop-a")
        assert response.status_code == 202, response.json
        flood.append(response.json["id"])
    last = fair.get(flood[-1], "shop-a")
    assert last["status"] == "queued" and last["queue_position"] > 100

    # Where is my job: the last one's position falls as jobs finish, with an estimate.
    seen = [last["queue_position"]]
    for _ in range(3):
        time.sleep(1.5)
        view = fair.get(flood[-1], "shop-a")
        seen.append(view["queue_position"])
    assert seen == sorted(seen, reverse=True) and seen[-1] < seen[0], seen
    assert view["estimated_start_at"] is not None

    job = fair.run("user_profile", {"events": [EVENT]}, "shop-b", timeout=60)
    assert job["status"] == "succeeded", job
    waited = job["timings"]["queue_seconds"]
    print(f"tenant B waited {waited:.2f} s behind a {FLOOD}-job flood")
    assert waited <= 5, waited
    backlog = fair.get(flood[-1], "shop-a")
    assert backlog["status"] == "queued"  # the flood was still there: B went around it
    with fair.db.session() as session:  # done with the flood (cancel is not what is tested)
        session.execute(Job.__table__.update().where(Job.status == "queued")
                        .values(status="canceled"))


def test_a_killed_workers_job_is_rerun_within_30_s(fair):
    """The whole worker (parent and children) dies: no redelivery comes from the broker
    (the message waits out the visibility timeout), the heartbeats tell the sweeper."""
    wait_for(lambda: not fair.client.get("/v1/queues", headers=fair.auth("shop-c"))
             .json["queues"][0]["running"], 60, what="the cpu lane to drain")
    spare = start_worker(fair.env, queues="cpu", concurrency=1, name="cpu-spare")
    spare.wait_for_log("event=model_loaded kind=embedding", timeout=180)
    fair.workers.append(spare)
    job_id = fair.submit("diag_sleep", {"seconds": 3, "echo": "again"}, "shop-c").json["id"]
    fair.wait(job_id, "shop-c", until=("running",), timeout=30)
    with fair.db.session() as session:
        pid = session.get(Job, job_id).worker_pid
    group = os.getpgid(pid)
    killed_at = time.time()
    os.killpg(group, signal.SIGKILL)
    job = fair.wait(job_id, "shop-c", timeout=90)
    assert job["status"] == "succeeded" and job["result"]["echo"] == "again", job
    assert job["attempts"] == 2
    rerun_after = _stamp(job["timings"]["started_at"]).timestamp() - killed_at
    print(f"re-run {rerun_after:.1f} s after its worker was killed")
    assert rerun_after <= 30, rerun_after
