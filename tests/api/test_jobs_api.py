"""Submitting, reading, listing and canceling jobs through the API (no worker needed)."""

from __future__ import annotations

import json

from sqlalchemy import select

from shared.models import Job

EVENT = {"type": "view", "timestamp": "2011-05-01T10:00:00Z", "title": "RED MUG"}


def _submit(stack, tenant="acme", headers=None, **input_extra):
    return stack.client.post(
        "/v1/jobs", json={"type": "user_profile", "input": {"events": [EVENT], **input_extra}},
        headers={**stack.auth(tenant), **(headers or {})},
    )


def test_submit_returns_202_with_location_and_view(api_on_both):
    response = _submit(api_on_both)
    assert response.status_code == 202
    job = response.json
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued" and job["type"] == "user_profile"
    assert job["priority"] == 5 and job["attempts"] == 0 and job["result"] is None
    assert job["timings"]["created_at"].endswith("Z")
    assert job["input"]["events"][0]["timestamp"] == "2011-05-01T10:00:00Z"
    assert api_on_both.get(job["id"]) == job


def test_naive_timestamps_are_stored_as_utc(api_on_both):
    naive = dict(EVENT, timestamp="2011-05-01T10:00:00")
    response = api_on_both.submit("user_profile", {"events": [naive]})
    assert response.json["input"]["events"][0]["timestamp"] == "2011-05-01T10:00:00Z"


def test_idempotency_key_replays_same_job_and_rejects_other_body(api_on_both):
    first = _submit(api_on_both, headers={"Idempotency-Key": "order-42"})
    again = _submit(api_on_both, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 202
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = _submit(api_on_both, headers={"Idempotency-Key": "order-42"}, top_tags=3)
    assert other.status_code == 409
    assert other.json["error"]["code"] == "idempotency_conflict"
    assert other.json["error"]["details"][0]["path"] == "header:Idempotency-Key"
    # Keys are per tenant: another tenant may use the same one.
    theirs = _submit(api_on_both, tenant="globex", headers={"Idempotency-Key": "order-42"})
    assert theirs.status_code == 202 and theirs.json["id"] != first.json["id"]
    with api_on_both.db.session() as session:
        count = len(session.scalars(select(Job).where(Job.idempotency_key == "order-42")).all())
    assert count == 2


def test_tenant_sees_only_its_own_jobs(api_on_both):
    mine = _submit(api_on_both, tenant="initech").json
    other = api_on_both.client.get(f"/v1/jobs/{mine['id']}", headers=api_on_both.auth("umbrella"))
    assert other.status_code == 404
    cancel = api_on_both.client.post(f"/v1/jobs/{mine['id']}/cancel",
                                  headers=api_on_both.auth("umbrella"))
    assert cancel.status_code == 404
    listed = api_on_both.client.get("/v1/jobs", headers=api_on_both.auth("umbrella")).json
    assert mine["id"] not in {j["id"] for j in listed["jobs"]}


def test_list_is_newest_first_filtered_and_paged(api_on_both):
    tenant = "paging"
    ids = [_submit(api_on_both, tenant=tenant).json["id"] for _ in range(7)]
    api_on_both.client.post(f"/v1/jobs/{ids[0]}/cancel", headers=api_on_both.auth(tenant))
    seen, cursor = [], None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api_on_both.client.get(f"/v1/jobs?{query}", headers=api_on_both.auth(tenant)).json
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    queued = api_on_both.client.get("/v1/jobs?status=queued&type=user_profile",
                                 headers=api_on_both.auth(tenant)).json
    assert [j["id"] for j in queued["jobs"]] == list(reversed(ids[1:]))
    canceled = api_on_both.client.get("/v1/jobs?status=canceled",
                                      headers=api_on_both.auth(tenant)).json
    assert [j["id"] for j in canceled["jobs"]] == [ids[0]]


def test_cancel_queued_then_cancel_again_is_409(api_on_both):
    job = _submit(api_on_both).json
    response = api_on_both.client.post(f"/v1/jobs/{job['id']}/cancel", headers=api_on_both.auth())
    assert response.status_code == 200
    assert response.json["status"] == "canceled"
    assert response.json["timings"]["finished_at"] is not None
    again = api_on_both.client.post(f"/v1/jobs/{job['id']}/cancel", headers=api_on_both.auth())
    assert again.status_code == 409 and "canceled" in again.json["error"]["message"]


def test_priority_is_recorded(api_on_both):
    response = api_on_both.client.post(
        "/v1/jobs", json={"type": "user_profile", "input": {"events": [EVENT]}, "priority": 9},
        headers=api_on_both.auth())
    assert response.json["priority"] == 9


def test_health_and_readiness(api_on_both):
    assert api_on_both.client.get("/healthz").json == {"status": "ok"}
    ready = api_on_both.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "broker": "ok"}


def test_openapi_comes_from_the_validating_schemas(api_on_both):
    spec = api_on_both.client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    schemas = spec["components"]["schemas"]
    assert "events" in schemas["UserProfileInput"]["required"]
    assert schemas["UserProfileInput"]["properties"]["events"]["maxItems"] == 20_000
    assert set(spec["paths"]["/v1/jobs"]) == {"get", "post"}
    assert "ItemsUpsert" in schemas and "RecommendationInput" in schemas
    assert "put" in spec["paths"]["/v1/catalogs/{catalog_id}/items"]
    assert "422" in spec["paths"]["/v1/jobs"]["post"]["responses"]
    assert schemas["JobInputs"]["properties"]["user_profile"] == {
        "$ref": "#/components/schemas/UserProfileInput"}
    # Every $ref resolves inside the document.
    marker = '"$ref": "#/components/schemas/'
    refs = {part.split('"')[0] for part in json.dumps(spec).split(marker)[1:]}
    assert refs <= set(schemas)


def test_every_route_and_method_is_in_openapi(api_on_both):
    spec = api_on_both.client.get("/openapi.json").json
    for rule in api_on_both.app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule == "/openapi.json":
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, methods)
