"""/v1/settings and what it changes at submit time: people's text stored redacted unless the
tenant opted in, product data never."""

from __future__ import annotations

import uuid

from shared.models import Job

MESSAGE = "Where is my parcel? Reach me at jo@example.com or +1 415 555 0134"
PRODUCT = {"title": "Support kit, call +1 415 555 0199 for setup"}


def _stored_input(stack, job_id: str) -> dict:
    with stack.db.session() as session:
        return session.get(Job, uuid.UUID(job_id)).input


def test_settings_default_then_replace(api_only):
    headers = api_only.auth("settings-shop")
    assert api_only.client.get("/v1/settings", headers=headers).json == {
        "replies": None, "store_raw_input": False, "job_retention_days": None,
        "delivery_retention_days": None, "updated_at": None}
    body = {"replies": {"shipping": {"en": "We ship in 2 days.", "zh": "两天内发货。"},
                        "contact": "send us a direct message"}, "store_raw_input": True}
    saved = api_only.client.put("/v1/settings", headers=headers, json=body).json
    assert saved["replies"] == body["replies"] and saved["store_raw_input"] is True
    assert api_only.client.get("/v1/settings", headers=headers).json["updated_at"]
    other = api_only.client.get("/v1/settings", headers=api_only.auth("another-shop")).json
    assert other["replies"] is None  # settings are the tenant's own


def test_bad_settings_name_what_and_where(api_only):
    headers = api_only.auth("settings-shop")
    response = api_only.client.put("/v1/settings", headers=headers, json={
        "replies": {"shipping": {"english": "We ship fast."}}})
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["path"].startswith("replies.shipping")
    assert api_only.client.put("/v1/settings", headers=headers,
                               json={"store_raw_input": "maybe"}).status_code == 422


def test_people_text_is_stored_redacted_product_data_is_not(api_only):
    response = api_only.submit("social_reply", {"platform": "x", "message": MESSAGE,
                                                "product": PRODUCT}, tenant="redacting-shop")
    assert response.status_code == 202, response.json
    stored = _stored_input(api_only, response.json["id"])
    assert stored["message"] == "Where is my parcel? Reach me at [email] or [phone]"
    assert stored["product"]["title"] == PRODUCT["title"]


def test_a_tenant_that_opts_in_keeps_the_raw_input(api_only):
    tenant = "raw-input-shop"
    api_only.client.put("/v1/settings", headers=api_only.auth(tenant),
                        json={"store_raw_input": True})
    response = api_only.submit("social_reply", {"platform": "x", "message": MESSAGE},
                               tenant=tenant)
    assert _stored_input(api_only, response.json["id"])["message"] == MESSAGE
