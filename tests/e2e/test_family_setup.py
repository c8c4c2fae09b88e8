"""A worker process sets up its families (models loaded, taxonomy embedded) before it takes
its first job, even when that job is already waiting: the job's run time is its own."""

from __future__ import annotations

import pytest

from tests.support.processes import start_worker
from tests.support.stack import build_stack

PROFILE = {"as_of": "2011-12-01T00:00:00Z", "events": [
    {"type": "purchase", "timestamp": "2011-11-01T10:00:00Z", "title": "RED MUG", "price": 2.5,
     "quantity": 2, "order_id": "o1"}]}


@pytest.fixture(scope="module")
def quiet_stack(redis_server, database_factory):
    """The API on a database and Redis db of its own, no worker yet."""
    built = build_stack("sqlite", database_factory("sqlite"),
                        f"redis://127.0.0.1:{redis_server.port}/11", with_worker=False)
    yield built
    built.stop()


def _line(lines: list[str], text: str) -> int:
    return next(n for n, line in enumerate(lines) if text in line)


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_families_are_set_up_before_the_first_job(quiet_stack, pool):
    submitted = quiet_stack.submit("user_profile", PROFILE)  # waits for the worker
    assert submitted.status_code == 202
    worker = start_worker(quiet_stack.env, queues="cpu", concurrency=1, pool=pool,
                          name=f"setup-{pool}")
    try:
        job = quiet_stack.wait(submitted.json["id"], timeout=180)
        assert job["status"] == "succeeded", job
        lines = list(worker.lines)
    finally:
        worker.stop()
    planned = lines[_line(lines, "event=worker_planned")]
    assert "families=profiling,recommendation,personalised_ranking,diagnostic,echo" in planned
    assert "generation" not in planned.split("families=")[1].split()[0]
    loaded = _line(lines, "event=model_loaded kind=embedding")
    ready = _line(lines, "event=family_ready family=profiling")
    started = _line(lines, f"event=job_started job_id={job['id']}")
    assert loaded < ready < started
    process = {lines[n].split()[3] for n in (loaded, ready, started)}  # %(processName)s
    assert len(process) == 1, process
    load_s = float(lines[loaded].split("seconds=")[1].split()[0])
    assert job["timings"]["run_seconds"] < load_s
