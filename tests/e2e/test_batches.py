"""Batches over HTTP (real gunicorn, real workers, SQLite and PostgreSQL), driven by the client
package: exact counts with planted bad lines and failing jobs, a complete results file, retry
of exactly the failed lines, cancel mid-batch, one webhook for the batch."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from shared.models import Job
from tests.support.processes import wait_for
from vitrine_client import AsyncVitrine, NotFound, ValidationError, Vitrine, verify

EVENT = {"type": "purchase", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG",
         "price": 3.5, "quantity": 2, "order_id": "o1"}
FAILING = {17, 250, 500, 751, 999}  # diag_raise lines: jobs that fail
BAD = {3: {"events": [dict(EVENT, price=-1)]}, 400: "not-an-object", 888: None}


@pytest.fixture
def vitrine(live):
    """A client of the live API for tenant acme."""
    stack, server = live
    with Vitrine(server.url, stack.key()) as client:
        yield client


def _lines(count: int = 1000) -> list:
    lines = []
    for n in range(1, count + 1):
        line = {"custom_id": f"shopper-{n:04d}", "type": "user_profile",
                "input": {"events": [dict(EVENT, order_id=f"o{n}")]}}
        if n in FAILING:
            line = {"custom_id": f"shopper-{n:04d}", "type": "diag_raise",
                    "input": {"message": f"planted failure {n}"}}
        if n in BAD:
            line["input"] = BAD[n]
            if BAD[n] is None:
                line["custom_id"] = "shopper-0001"  # a custom_id used twice
            elif isinstance(BAD[n], str):
                line = BAD[n]
        lines.append(line)
    return lines


@pytest.mark.slow
def test_thousand_lines_counts_results_webhook_and_retry_of_the_failed(live, vitrine,
                                                                       receiver):
    stack, _ = live
    path = f"/batch-{stack.backend}"
    url = receiver.script(path, 200)
    batch = vitrine.batches.create(_lines(), webhook_url=url)
    assert batch["invalid_count"] == 3 and batch["request_counts"]["total"] == 997
    assert sorted(line["line"] for line in batch["invalid_lines"]) == [3, 400, 888]

    ended = vitrine.batches.wait(batch["id"], timeout=600)
    assert ended["status"] == "completed"
    assert ended["request_counts"] == {"total": 997, "queued": 0, "running": 0,
                                       "succeeded": 992, "failed": 5, "canceled": 0}
    assert ended["timings"]["eta_seconds"] == 0 and ended["timings"]["jobs_per_second"] > 0

    results = list(vitrine.batches.results(batch["id"]))
    assert len(results) == 1000
    by_status: dict[str, list] = {}
    for line in results:
        by_status.setdefault(line["status"], []).append(line)
    assert {k: len(v) for k, v in by_status.items()} == {"succeeded": 992, "failed": 5,
                                                         "invalid": 3}
    failed_ids = sorted(line["custom_id"] for line in by_status["failed"])
    assert failed_ids == [f"shopper-{n:04d}" for n in sorted(FAILING)]
    assert all(line["error"]["code"] == "model_error" for line in by_status["failed"])
    assert all(line["result"]["events_used"] == 1 and line["result"]["rfm"]
               for line in by_status["succeeded"])
    assert len({line["custom_id"] for line in by_status["succeeded"]}) == 992

    event = receiver.wait(path, 1, timeout=30)[0]
    secret = stack.client.get("/v1/webhooks/secret", headers=stack.auth()).json["secret"]
    body = verify(secret, event.headers, event.body)
    assert body["object"] == "batch" and body["id"] == batch["id"]
    assert body["request_counts"]["failed"] == 5
    time.sleep(1.5)  # a second event for the same batch would have come by now
    assert len(receiver.received(path)) == 1

    retried = vitrine.batches.retry(batch["id"])
    assert retried["retry_of"] == batch["id"] and retried["request_counts"]["total"] == 5
    vitrine.batches.wait(retried["id"], timeout=120)
    again = list(vitrine.batches.results(retried["id"]))
    assert sorted(line["custom_id"] for line in again) == failed_ids
    assert {line["status"] for line in again} == {"failed"}  # diag_raise fails every time


def test_cancel_mid_batch_stops_the_rest(live, vitrine):
    lines = [{"custom_id": f"nap-{n:02d}", "type": "diag_sleep", "input": {"seconds": 0.3}}
             for n in range(40)]
    batch = vitrine.batches.create(lines)
    wait_for(lambda: vitrine.batches.get(batch["id"])["request_counts"]["succeeded"] >= 2, 60,
             what="the first jobs of the batch to finish")
    canceled = vitrine.batches.cancel(batch["id"])
    counts = canceled["request_counts"]
    assert canceled["status"] == "canceled"
    assert counts["queued"] == counts["running"] == 0
    assert counts["succeeded"] + counts["canceled"] == 40 and counts["canceled"] > 0
    time.sleep(1.5)  # jobs running at the cancel finish now: their results are discarded
    assert vitrine.batches.get(batch["id"])["request_counts"] == counts
    statuses = {line["status"] for line in vitrine.batches.results(batch["id"])}
    assert statuses <= {"succeeded", "canceled"}


def test_long_poll_returns_when_the_job_ends(vitrine):
    job = vitrine.jobs.create("diag_sleep", {"seconds": 1.0})
    started = time.monotonic()
    done = vitrine.jobs.get(job["id"], wait=30)
    assert done["status"] == "succeeded"
    assert time.monotonic() - started < 15  # well before the 30 s the poll could have held


def test_typed_errors_and_the_async_client(live):
    stack, server = live

    async def scenario():
        async with AsyncVitrine(server.url, stack.key()) as client:
            job = await client.jobs.create("echo", {"text": "hello"})
            done = await client.jobs.wait(job["id"], timeout=60)
            batch = await client.batches.create(
                [{"custom_id": "a", "type": "echo", "input": {"text": "one"}}])
            await client.batches.wait(batch["id"], timeout=60)
            results = [line async for line in client.batches.results(batch["id"])]
            return done, results

    import asyncio

    done, results = asyncio.run(scenario())
    assert done["result"] == {"echo": "hello"}
    assert results[0]["result"] == {"echo": "one"} and results[0]["custom_id"] == "a"
    with Vitrine(server.url, stack.key()) as client:
        with pytest.raises(ValidationError) as refused:
            client.jobs.create("echo", {"text": ""})
        assert refused.value.details[0]["path"] == "input.text"
        with pytest.raises(NotFound):
            client.batches.get("00000000-0000-0000-0000-000000000000")


def test_a_repeated_create_with_one_key_makes_one_batch(live, vitrine):
    stack, _ = live
    lines = [{"custom_id": f"k{n}", "type": "echo", "input": {"text": "x"}} for n in range(3)]
    first = vitrine.batches.create(lines, idempotency_key="nightly-42")
    second = vitrine.batches.create(lines, idempotency_key="nightly-42")
    assert first["id"] == second["id"]
    with stack.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(
            Job.custom_id.in_(["k0", "k1", "k2"]))) == 3
    assert json.loads(json.dumps(first))["request_counts"]["total"] == 3
