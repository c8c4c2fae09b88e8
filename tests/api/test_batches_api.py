"""/v1/batches without a worker: lines checked up front, counts, results, cancel, list,
long-poll bounds (the end-to-end runs are in tests/e2e/test_batches.py)."""

from __future__ import annotations

import json
import time

EVENT = {"type": "view", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG"}


def _line(n: int, **extra) -> dict:
    return {"custom_id": f"c{n:04d}", "type": "user_profile", "input": {"events": [EVENT]},
            **extra}


def _create(stack, lines, **body):
    return stack.client.post("/v1/batches", json={"requests": lines, **body},
                             headers=stack.auth())


def test_bad_lines_are_reported_not_fatal(api_on_both):
    lines = [_line(n) for n in range(5)]
    lines[1]["input"] = {"events": [dict(EVENT, price=-1)]}
    lines[3] = {"custom_id": "c0000", "type": "user_profile", "input": {"events": [EVENT]}}
    lines.append("not an object")
    response = _create(api_on_both, lines)
    assert response.status_code == 202, response.json
    batch = response.json
    assert response.headers["Location"] == f"/v1/batches/{batch['id']}"
    assert batch["status"] == "in_progress"
    assert batch["request_counts"] == {"total": 3, "queued": 3, "running": 0, "succeeded": 0,
                                       "failed": 0, "canceled": 0}
    invalid = {line["line"]: line for line in batch["invalid_lines"]}
    assert sorted(invalid) == [2, 4, 6] and batch["invalid_count"] == 3
    assert invalid[2]["details"][0]["path"] == "input.events[0].price"
    assert invalid[4]["details"][0]["problem"] == "already used on line 1"
    results = api_on_both.client.get(f"/v1/batches/{batch['id']}/results",
                                     headers=api_on_both.auth())
    assert results.mimetype == "application/x-ndjson"
    rows = [json.loads(line) for line in results.get_data(as_text=True).splitlines()]
    assert [r["custom_id"] for r in rows] == ["c0000", "c0002", "c0004", "c0001", "c0000",
                                              None]
    assert [r["status"] for r in rows] == ["queued"] * 3 + ["invalid"] * 3


def test_jsonl_upload_and_no_valid_line_is_422(api_on_both):
    body = "\n".join(json.dumps(_line(n)) for n in range(3)) + "\n{broken\n\n"
    response = api_on_both.client.post("/v1/batches", data=body.encode(),
                                    content_type="application/x-ndjson",
                                    headers=api_on_both.auth())
    assert response.status_code == 202, response.json
    assert response.json["request_counts"]["total"] == 3
    assert response.json["invalid_lines"][0]["line"] == 4
    assert response.json["invalid_lines"][0]["code"] == "malformed_json"
    refused = api_on_both.client.post("/v1/batches", data=b"[1]\n", headers=api_on_both.auth(),
                                   content_type="application/x-ndjson")
    assert refused.status_code == 422 and refused.json["error"]["details"][0]["path"] == "line 1"
    empty = _create(api_on_both, [])
    assert empty.status_code == 422 and empty.json["error"]["details"][0]["path"] == "requests"


def test_cancel_ends_the_batch_and_its_jobs(api_on_both):
    batch = _create(api_on_both, [_line(n) for n in range(4)]).json
    canceled = api_on_both.client.post(f"/v1/batches/{batch['id']}/cancel",
                                       headers=api_on_both.auth())
    assert canceled.status_code == 200
    assert canceled.json["status"] == "canceled"
    assert canceled.json["request_counts"]["canceled"] == 4
    again = api_on_both.client.post(f"/v1/batches/{batch['id']}/cancel", headers=api_on_both.auth())
    assert again.status_code == 409 and again.json["error"]["code"] == "batch_finished"
    retry = api_on_both.client.post(f"/v1/batches/{batch['id']}/retry", headers=api_on_both.auth())
    assert retry.status_code == 409 and retry.json["error"]["code"] == "nothing_to_retry"


def test_idempotent_batches_and_tenancy(api_on_both):
    headers = {**api_on_both.auth(), "Idempotency-Key": "catalog-2026-11"}
    body = {"requests": [_line(1)]}
    first = api_on_both.client.post("/v1/batches", json=body, headers=headers)
    again = api_on_both.client.post("/v1/batches", json=body, headers=headers)
    assert again.status_code == 202 and again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api_on_both.client.post("/v1/batches", json={"requests": [_line(2)]}, headers=headers)
    assert other.status_code == 409
    stranger = api_on_both.client.get(f"/v1/batches/{first.json['id']}",
                                   headers=api_on_both.auth("globex"))
    assert stranger.status_code == 404
    listed = api_on_both.client.get("/v1/batches?limit=1", headers=api_on_both.auth()).json
    assert len(listed["batches"]) == 1 and listed["next_cursor"]
    following = api_on_both.client.get(f"/v1/batches?limit=1&cursor={listed['next_cursor']}",
                                    headers=api_on_both.auth()).json
    assert following["batches"][0]["id"] != listed["batches"][0]["id"]


def test_long_poll_waits_then_answers_and_is_bounded(api_on_both):
    job = api_on_both.submit("user_profile", {"events": [EVENT]}).json
    started = time.monotonic()
    waited = api_on_both.client.get(f"/v1/jobs/{job['id']}?wait=0.6", headers=api_on_both.auth())
    assert waited.status_code == 200 and waited.json["status"] == "queued"
    assert time.monotonic() - started >= 0.6
    for bad in ("61", "-1", "nan", "soon"):
        refused = api_on_both.client.get(f"/v1/jobs/{job['id']}?wait={bad}",
                                      headers=api_on_both.auth())
        assert refused.status_code == 422, bad
        assert refused.json["error"]["details"][0]["path"] == "query:wait"
    api_on_both.client.post(f"/v1/jobs/{job['id']}/cancel", headers=api_on_both.auth())
    started = time.monotonic()
    done = api_on_both.client.get(f"/v1/jobs/{job['id']}?wait=30", headers=api_on_both.auth())
    assert done.json["status"] == "canceled" and time.monotonic() - started < 5


def test_the_last_job_ends_the_batch_and_the_sweeper_ends_a_missed_one(api_on_both):
    import uuid

    from sqlalchemy import update

    from shared import batches, lifecycle
    from shared.models import Job
    from shared.status import JobStatus

    first = _create(api_on_both, [_line(n) for n in range(2)]).json
    ids = [uuid.UUID(r["job_id"]) for r in _results(api_on_both, first["id"])]
    with api_on_both.db.session() as session:
        for job_id in ids:
            lifecycle.transition(session, job_id, from_statuses=[JobStatus.QUEUED],
                                 to=JobStatus.RUNNING)
        lifecycle.transition(session, ids[0], from_statuses=[JobStatus.RUNNING],
                             to=JobStatus.SUCCEEDED, result={})
    assert _batch(api_on_both, first["id"])["status"] == "in_progress"
    with api_on_both.db.session() as session:
        lifecycle.transition(session, ids[1], from_statuses=[JobStatus.RUNNING],
                             to=JobStatus.FAILED, error_code="model_error")
    ended = _batch(api_on_both, first["id"])
    assert ended["status"] == "completed" and ended["timings"]["finished_at"]
    assert ended["request_counts"]["succeeded"] == ended["request_counts"]["failed"] == 1

    # Two last jobs ending at once on PostgreSQL may each see the other still running: the
    # batch is then left in progress with no live job, and the sweeper ends it.
    missed = _create(api_on_both, [_line(n) for n in range(2)]).json
    with api_on_both.db.session() as session:
        session.execute(update(Job).where(Job.id.in_(
            [uuid.UUID(r["job_id"]) for r in _results(api_on_both, missed["id"])]))
            .values(status="succeeded"))
    assert _batch(api_on_both, missed["id"])["status"] == "in_progress"
    with api_on_both.db.session() as session:
        assert batches.finish_stragglers(session) >= 1
    assert _batch(api_on_both, missed["id"])["status"] == "completed"


def _batch(stack, batch_id):
    return stack.client.get(f"/v1/batches/{batch_id}", headers=stack.auth()).json


def _results(stack, batch_id):
    response = stack.client.get(f"/v1/batches/{batch_id}/results", headers=stack.auth())
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_a_creation_cut_short_is_finished_by_the_retry_with_its_key(api_on_both, monkeypatch):
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    from api import batches as batch_routes
    from shared.models import Job

    real_insert, calls = batch_routes._insert, []

    def database_gone_at_the_second_chunk(session, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        real_insert(session, rows)

    monkeypatch.setattr(batch_routes, "_insert", database_gone_at_the_second_chunk)
    lines = [_line(n) for n in range(2500)]  # three chunks of at most 1,000
    headers = {**api_on_both.auth(), "Idempotency-Key": "cut-short"}
    cut = api_on_both.client.post("/v1/batches", json={"requests": lines}, headers=headers)
    assert cut.status_code == 503
    with api_on_both.db.session() as session:
        [(batch_id, recorded)] = session.execute(
            select(Job.batch_id, func.count()).where(Job.custom_id == "c0000",
                                                     Job.batch_id.is_not(None))
            .group_by(Job.batch_id).order_by(func.max(Job.created_at).desc()).limit(1)).all()
    partial = _batch(api_on_both, str(batch_id))
    assert partial["status"] == "creating" and partial["request_counts"]["total"] == 1000
    again = api_on_both.client.post("/v1/batches", json={"requests": lines}, headers=headers)
    assert again.status_code == 202 and again.json["id"] == str(batch_id)
    assert again.json["status"] == "in_progress"
    assert again.json["request_counts"]["total"] == 2500  # each line once
