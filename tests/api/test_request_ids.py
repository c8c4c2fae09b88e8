"""X-Request-Id on every response: the caller's when well-formed, else one made here."""

from __future__ import annotations

import json
import logging
import re
import uuid

from sqlalchemy import select

from api import create_app
from shared.models import Job


def test_a_request_id_is_generated_and_returned_on_every_response(api_only):
    client = api_only.client
    for response in (client.get("/healthz"), client.get("/v1/jobs"),  # 401
                     client.get("/v1/jobs", headers=api_only.auth()),
                     client.get("/v1/nothing-here", headers=api_only.auth())):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"]), response
    first = client.get("/healthz").headers["X-Request-Id"]
    assert first != client.get("/healthz").headers["X-Request-Id"]


def test_the_callers_request_id_is_echoed_and_stored_on_the_job(api_only):
    request_id = f"trace-{uuid.uuid4().hex[:8]}:span/1"
    response = api_only.client.post(
        "/v1/jobs", json={"type": "diag_sleep", "input": {"seconds": 0}},
        headers={**api_only.auth(), "X-Request-Id": request_id})
    assert response.status_code == 202 and response.headers["X-Request-Id"] == request_id
    with api_only.db.session() as session:
        job = session.scalar(select(Job).where(Job.id == uuid.UUID(response.json["id"])))
        assert job.request_id == request_id


def test_a_malformed_request_id_is_refused_with_a_fresh_one(api_only):
    for bad in ("has space", "x" * 129, "line\tbreak", "ünïcode"):
        response = api_only.client.get("/v1/jobs", headers={**api_only.auth(),
                                                            "X-Request-Id": bad})
        assert response.status_code == 422, bad
        assert response.json["error"]["details"][0]["path"] == "header:X-Request-Id"
        assert response.headers["X-Request-Id"] != bad


def test_json_logs_carry_the_request_id(api_only, capsys):
    app = create_app(api_only.settings.__class__.from_env(
        api_only.env, job_types=api_only.settings.job_types.values(), log_format="json"))
    app.add_url_rule("/log-something", "log_something",
                     lambda: (logging.getLogger("vitrine.test").info("event=probe"), "")[1])
    try:
        app.test_client().get("/log-something", headers={"X-Request-Id": "req-json-1"})
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
                 if line.startswith("{") and "event=probe" in line]
        assert lines and lines[0]["request_id"] == "req-json-1"
        assert lines[0]["level"] == "INFO" and lines[0]["name"] == "vitrine.test"
    finally:
        create_app(api_only.settings)  # back to text logs for the tests after this one
