"""The key-creating CLI; idempotency under concurrent requests, replays and the messages
they send (SQLite and PostgreSQL); a broker down at submit; canceling."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import redis
from sqlalchemy import select

from api import create_app
from shared.models import Job, Tenant
from tests.support.processes import ROOT
from tests.support.rows import waiting

EVENT = {"type": "view", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG"}


def test_create_api_key_command_prints_a_working_key(api_on_both):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api", "create-api-key", "--tenant", "cli-co"],
        cwd=ROOT, env=api_on_both.env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("vt_") and len(key) > 40
    response = api_on_both.client.get("/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def _cpu_messages(stack) -> int:
    return waiting(redis.Redis.from_url(stack.settings.broker_url), "cpu")


def test_concurrent_requests_with_one_idempotency_key_make_one_job(own_stack):
    """16 requests at once (SQLite and PostgreSQL, where inserts truly race and the losers
    meet the unique index): one row, one message, and 15 answers marked as replays."""
    tenant = f"racer-{uuid.uuid4().hex[:8]}"
    headers = {**own_stack.auth(tenant), "Idempotency-Key": "same-everywhere"}
    body = {"type": "user_profile", "input": {"events": [EVENT]}}
    messages_before = _cpu_messages(own_stack)
    barrier = threading.Barrier(8)

    def post(_):
        client = own_stack.app.test_client()
        barrier.wait(timeout=30)
        response = client.post("/v1/jobs", json=body, headers=headers)
        # Every answer, a lost race's too, says where the tenant stands on its rate.
        assert response.headers.get("RateLimit-Limit"), dict(response.headers)
        return (response.status_code, response.json["id"],
                response.headers.get("Idempotent-Replayed"))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(16)))
    assert {status for status, _, _ in results} == {202}
    assert len({job_id for _, job_id, _ in results}) == 1
    assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * 15
    with own_stack.db.session() as session:
        rows = session.scalars(select(Job.id).join(Tenant).where(Tenant.name == tenant)).all()
    assert [str(r) for r in rows] == [results[0][1]]
    assert _cpu_messages(own_stack) == messages_before + 1


def test_a_replay_sends_no_second_message_and_bad_keys_are_422(own_stack):
    tenant = f"replay-{uuid.uuid4().hex[:8]}"
    body = {"type": "user_profile", "input": {"events": [EVENT]}}

    def submit(key):
        return own_stack.client.post("/v1/jobs", json=body,
                                     headers={**own_stack.auth(tenant), "Idempotency-Key": key})

    before = _cpu_messages(own_stack)
    first = submit("order-7")
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    assert _cpu_messages(own_stack) == before + 1
    again = submit(" order-7 ")  # surrounding spaces are not part of the key
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert _cpu_messages(own_stack) == before + 1
    for bad in ["", "   ", "k" * 256]:
        response = submit(bad)
        assert response.status_code == 422, bad
        [detail] = response.json["error"]["details"]
        assert detail == {"path": "header:Idempotency-Key", "problem": "must be 1-255 characters"}
    assert submit("k" * 255).status_code == 202
    assert _cpu_messages(own_stack) == before + 2


def test_a_job_the_broker_could_not_take_is_marked_for_the_sweeper(own_stack):
    """Broker down at submit: the job is still accepted (its row is the record) and marked
    never-sent, so the sweeper sends it as soon as the broker is back."""
    settings = dataclasses.replace(own_stack.settings, broker_url="redis://127.0.0.1:1/0")
    client = create_app(settings).test_client()
    response = client.post("/v1/jobs", json={"type": "user_profile",
                                             "input": {"events": [EVENT]}},
                           headers=own_stack.auth())
    assert response.status_code == 202, response.json
    with own_stack.db.session() as session:
        row = session.get(Job, uuid.UUID(response.json["id"]))
        assert row.status == "queued" and row.enqueued_at is None
    ok = own_stack.submit("user_profile", {"events": [EVENT]})
    with own_stack.db.session() as session:
        assert session.get(Job, uuid.UUID(ok.json["id"])).enqueued_at is not None


def test_cancel_is_per_tenant_and_once(own_stack):
    job = own_stack.submit("user_profile", {"events": [EVENT]}, tenant="cancel-a").json
    other = own_stack.client.post(f"/v1/jobs/{job['id']}/cancel",
                                  headers=own_stack.auth("cancel-b"))
    assert other.status_code == 404
    mine = own_stack.client.post(f"/v1/jobs/{job['id']}/cancel",
                                 headers=own_stack.auth("cancel-a"))
    assert mine.status_code == 200 and mine.json["status"] == "canceled"
    again = own_stack.client.post(f"/v1/jobs/{job['id']}/cancel",
                                  headers=own_stack.auth("cancel-a"))
    assert again.status_code == 409 and again.json["error"]["code"] == "job_finished"
    assert again.json["error"]["message"] == \
        "job is already canceled; only queued or running jobs cancel"
