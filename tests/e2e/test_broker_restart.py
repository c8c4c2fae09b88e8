"""Nothing the API accepted is lost: not when Redis restarts empty, not when it is down."""

from __future__ import annotations

import pytest

from tests.support.processes import RedisServer, start_beat
from tests.support.stack import build_stack, start_cpu_worker


@pytest.fixture
def lonely_stack(database_factory):
    """An API with its own Redis and no worker yet, so messages sit in the broker."""
    redis = RedisServer()
    redis.start()
    stack = build_stack("sqlite", database_factory("sqlite"), redis.url, with_worker=False)
    yield stack, redis
    stack.stop()
    redis.stop()


def test_jobs_survive_redis_restart_and_outage(lonely_stack, tmp_path):
    stack, redis = lonely_stack
    sent = stack.submit("diag_sleep", {"seconds": 0, "echo": "sent before restart"})
    assert sent.status_code == 202

    redis.stop()
    ready = stack.client.get("/readyz")
    assert ready.status_code == 503 and list(ready.json["failed"]) == ["broker"]
    # The database still takes the job: 202, and the sweeper sends it once Redis is back.
    unsent = stack.submit("diag_sleep", {"seconds": 0, "echo": "accepted while down"})
    assert unsent.status_code == 202, unsent.json
    assert unsent.json["status"] == "queued"

    redis.start()  # same port, empty: the first job's message is gone
    assert stack.client.get("/readyz").status_code == 200

    stack.workers.append(start_cpu_worker(stack.env, name="cpu-restart", concurrency=1))
    stack.workers.append(start_beat(stack.env, tmp_path))
    for response in (sent, unsent):
        job = stack.wait(response.json["id"], timeout=60)
        assert job["status"] == "succeeded", job
        assert job["result"]["echo"] == response.json["input"]["echo"]
        assert job["attempts"] == 1
    assert "event=sweep resent_queued=" in stack.workers[0].output
