"""Every error status the API promises, each with a JSON body that says what and where."""

from __future__ import annotations

import uuid

import psycopg
import pytest
import redis
from sqlalchemy import func, select

from api import create_app
from api.services import services_of
from shared.models import Job, Tenant
from shared.settings import Settings
from tests.support.rows import waiting
from tests.support.stack import POSTGRES_ADMIN_URL, PostgresDatabase, build_stack, stack_env

VALID_EVENT = {"type": "purchase", "timestamp": "2011-05-01T10:00:00", "title": "MUG",
               "price": 2.5, "quantity": 2}


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def _paths(error: dict) -> list[str]:
    return [d["path"] for d in error["details"]]


def test_missing_and_bad_keys_are_401(api_only):
    client = api_only.client
    _error(client.get("/v1/jobs"), 401, "unauthorized")
    _error(client.get("/v1/jobs", headers={"Authorization": "Bearer nope"}), 401)
    _error(client.get("/v1/jobs", headers={"Authorization": "Basic abc"}), 401)


def test_not_json_is_415(api_only):
    response = api_only.client.post("/v1/jobs", data="type=user_profile",
                                    headers={**api_only.auth(), "Content-Type": "text/plain"})
    error = _error(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]


def test_malformed_json_is_400(api_only):
    response = api_only.client.post("/v1/jobs", data='{"type": "user_profile",',
                                    headers={**api_only.auth(), "Content-Type": "application/json"})
    _error(response, 400, "malformed_json")


def test_body_over_limit_is_413(api_only):
    events = [dict(VALID_EVENT, title="X" * 400)] * 3000  # ~1.4 MB > 1 MiB default
    error = _error(api_only.submit("user_profile", {"events": events}), 413, "payload_too_large")
    assert str(api_only.settings.max_body_bytes) in error["message"]


@pytest.mark.parametrize(
    ("body", "path", "problem_part"),
    [
        ({"type": "make_coffee", "input": {}}, "type", "user_profile"),
        ({"type": "user_profile"}, "input", "required"),
        ({"type": "user_profile", "input": {}}, "input.events", "required"),
        ({"type": "user_profile", "input": {"events": []}}, "input.events", "at least 1"),
        ({"type": "user_profile", "input": {"events": [dict(VALID_EVENT, price="cheap")]}},
         "input.events[0].price", "number"),
        ({"type": "user_profile", "input": {"events": [dict(VALID_EVENT, title="T" * 501)]}},
         "input.events[0].title", "at most 500"),
        ({"type": "user_profile",
          "input": {"events": [VALID_EVENT, {**VALID_EVENT, "price": None}]}},
         "input.events[1]", "needs `price`"),
        ({"type": "user_profile", "input": {"events": [dict(VALID_EVENT, type="like")]}},
         "input.events[0].type", "'view'"),
        ({"type": "user_profile", "input": {"events": [dict(VALID_EVENT, timestamp="yesterday")]}},
         "input.events[0].timestamp", "datetime"),
        ({"type": "user_profile", "input": {"events": [VALID_EVENT], "colour": "red"}},
         "input.colour", "not permitted"),
        ({"type": "user_profile", "input": {"events": [VALID_EVENT]}, "priority": 11},
         "priority", "less than or equal to 9"),
        ({"type": "user_profile", "input": {"events": "lots"}}, "input.events", "list"),
        ({"type": "user_profile", "input": {"events": [VALID_EVENT],
                                            "taxonomy": [{"name": "a"}, {"name": "A"}]}},
         "input.taxonomy", "unique"),
        ({"type": "user_profile", "input": {"events": [VALID_EVENT]},
          "webhook": {"url": "ftp://example.com/x"}}, "webhook.url", "URL scheme"),
    ],
)
def test_schema_violations_are_422_with_path(api_only, body, path, problem_part):
    response = api_only.client.post("/v1/jobs", json=body, headers=api_only.auth())
    error = _error(response, 422, "validation_error")
    assert path in _paths(error), error
    problems = " ".join(d["problem"] for d in error["details"] if d["path"] == path)
    assert problem_part in problems, error


def test_body_that_is_not_an_object_is_422(api_only):
    response = api_only.client.post("/v1/jobs", json=[1, 2], headers=api_only.auth())
    assert _paths(_error(response, 422)) == ["$"]


def test_unknown_and_malformed_job_ids_are_404(api_only):
    _error(api_only.client.get(f"/v1/jobs/{uuid.uuid4()}", headers=api_only.auth()), 404,
           "not_found")
    _error(api_only.client.get("/v1/jobs/not-a-uuid", headers=api_only.auth()), 404)
    _error(api_only.client.post(f"/v1/jobs/{uuid.uuid4()}/cancel", headers=api_only.auth()), 404)


def test_bad_list_parameters_are_422(api_only):
    for query, name in [("status=done", "query:status"), ("limit=0", "query:limit"),
                        ("limit=x", "query:limit"), ("cursor=%%%", "query:cursor"),
                        ("type=nope", "query:type")]:
        response = api_only.client.get(f"/v1/jobs?{query}", headers=api_only.auth())
        assert _paths(_error(response, 422)) == [name]


def test_unknown_route_is_json_404(api_only):
    _error(api_only.client.get("/v2/anything"), 404, "not_found")


def test_database_and_broker_down_is_503():
    """Both down: the key cannot even be looked up (the auth path's 503)."""
    settings = Settings.from_env(
        stack_env("postgresql://postgres@127.0.0.1:1/test", "redis://127.0.0.1:1/0")
    )
    client = create_app(settings).test_client()
    response = client.post("/v1/jobs", json={"type": "user_profile",
                                             "input": {"events": [VALID_EVENT]}},
                           headers={"Authorization": "Bearer vt_whatever"})
    _error(response, 503, "unavailable")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert set(ready.json["failed"]) == {"database", "broker"}
    assert client.get("/healthz").status_code == 200


@pytest.mark.postgres
def test_database_down_while_the_broker_is_up_is_503_and_sends_nothing(redis_server):
    """The insert path, not the key lookup: the key is known (cached), the database then goes
    away, and the submission is answered 503 with the idempotency hint; no message goes to
    Redis for a job that has no row. Once the database is back, the same request with the
    same key makes exactly one job."""
    database = PostgresDatabase()
    broker = redis.Redis(port=redis_server.port, db=9)  # a db of this test's own
    broker.flushdb()
    stack = build_stack("postgresql", database.url,
                        f"redis://127.0.0.1:{redis_server.port}/9", with_worker=False)
    admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    try:
        key = stack.key("db-down")
        with stack.db.session() as session:
            tenant = session.scalar(select(Tenant.id).where(Tenant.name == "db-down"))
        admin.execute(f'ALTER DATABASE "{database.name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s", (database.name,))
        services_of(stack.app).key_cache.put(key, tenant)  # authenticated while it was up
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "while-down"}
        body = {"type": "user_profile", "input": {"events": [VALID_EVENT]}}
        error = _error(stack.client.post("/v1/jobs", json=body, headers=headers), 503,
                       "unavailable")
        assert "retry with the same Idempotency-Key" in error["message"]
        assert waiting(broker, "cpu") == 0
        ready = stack.client.get("/readyz")
        assert ready.status_code == 503 and set(ready.json["failed"]) == {"database"}

        admin.execute(f'ALTER DATABASE "{database.name}" ALLOW_CONNECTIONS true')
        services_of(stack.app).key_cache.put(key, tenant)
        accepted = stack.client.post("/v1/jobs", json=body, headers=headers)
        assert accepted.status_code == 202, accepted.json
        replay = stack.client.post("/v1/jobs", json=body, headers=headers)
        assert replay.headers["Idempotent-Replayed"] == "true"
        with stack.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Job)
                                  .where(Job.tenant_id == tenant)) == 1
        assert waiting(broker, "cpu") == 1
    finally:
        admin.execute(f'ALTER DATABASE "{database.name}" ALLOW_CONNECTIONS true')
        admin.close()
        stack.stop()
        database.drop()
        broker.flushdb()
