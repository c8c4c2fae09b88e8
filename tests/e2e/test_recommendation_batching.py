"""Concurrent recommendation jobs on a threads-pool cpu worker share encoder batches."""

from __future__ import annotations

import pytest

from tests.support.events import office_catalog_items
from tests.support.processes import start_worker
from tests.support.stack import build_stack

JOBS = 12


@pytest.fixture(scope="module")
def threads_stack(redis_server, database_factory):
    """The API and one cpu worker process running 8 jobs at a time in threads."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/9", with_worker=False,
                        VITRINE_TORCH_THREADS="2")
    worker = start_worker(built.env, queues="cpu", concurrency=8, pool="threads",
                          name="cpu-threads")
    worker.wait_for_log(" ready.", timeout=180)
    worker.concurrency = 0
    built.workers.append(worker)
    yield built
    built.stop()


def _inputs() -> list[dict]:
    """Each job: 40 inline Office candidates and a free-text history of 1-3 titles."""
    items = office_catalog_items()
    inputs = []
    for n in range(JOBS):
        candidates = [{"id": i["id"], "title": i["title"], "category": i.get("category")}
                      for i in items[n * 40:(n + 1) * 40]]
        history = [{"title": items[2000 + n * 3 + h]["title"]} for h in range(1 + n % 3)]
        inputs.append({"candidates": candidates, "history": history, "k": 5})
    return inputs


def test_concurrent_jobs_share_forward_passes_and_get_the_same_rankings(threads_stack):
    stack, worker = threads_stack, threads_stack.workers[0]
    inputs = _inputs()
    ids = []
    for job_input in inputs:  # all queued before the worker can finish the first
        response = stack.submit("recommendation", job_input)
        assert response.status_code == 202, response.json
        ids.append(response.json["id"])
    together = [stack.wait(job_id, timeout=180) for job_id in ids]
    assert all(job["status"] == "succeeded" for job in together), together
    shared = [line for line in worker.lines if "event=encode_batch" in line]
    assert shared, "no two jobs' texts were encoded in one forward pass"
    assert max(int(line.split("requests=")[1].split()[0]) for line in shared) >= 2

    for job_input, batched in zip(inputs, together, strict=True):
        alone = stack.run("recommendation", job_input, timeout=120)  # one at a time
        assert [i["id"] for i in alone["result"]["items"]] == \
            [i["id"] for i in batched["result"]["items"]]
        assert [i["score"] for i in alone["result"]["items"]] == pytest.approx(
            [i["score"] for i in batched["result"]["items"]], abs=1e-4)
