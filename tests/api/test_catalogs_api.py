"""Catalog routes' validation and bookkeeping (no worker needed)."""

from __future__ import annotations


def _put(stack, catalog, items, tenant="acme"):
    return stack.client.put(f"/v1/catalogs/{catalog}/items", json={"items": items},
                            headers=stack.auth(tenant))


def test_upsert_reports_what_changed(api_on_both):
    items = [{"id": str(i), "title": f"Item {i}", "price": 1.0 + i} for i in range(5)]
    first = _put(api_on_both, "shop", items)
    assert first.status_code == 202
    assert (first.json["inserted"], first.json["to_embed"], first.json["version"]) == (5, 5, 1)
    again = _put(api_on_both, "shop", items).json
    assert (again["unchanged"], again["to_embed"], again["version"]) == (5, 0, 1)
    stats = api_on_both.client.get("/v1/catalogs/shop", headers=api_on_both.auth()).json
    assert stats["items"] == 5 and stats["embedded"] == 0 and stats["events"] == 0
    assert api_on_both.client.delete("/v1/catalogs/shop/items/4",
                                  headers=api_on_both.auth()).status_code == 204
    shop = api_on_both.client.get("/v1/catalogs/shop", headers=api_on_both.auth()).json
    assert shop["items"] == 4


def test_upsert_validation(api_on_both):
    limit = api_on_both.settings.catalog_max_items
    too_many = [{"id": str(i), "title": "x"} for i in range(limit + 1)]
    response = _put(api_on_both, "big", too_many)
    assert response.status_code == 422 and response.json["error"]["details"][0]["path"] == "items"
    duplicate = _put(api_on_both, "dup", [{"id": "1", "title": "a"}, {"id": "1", "title": "b"}])
    assert duplicate.status_code == 422 and "repeated" in duplicate.json["error"]["details"][0][
        "problem"]
    missing_title = _put(api_on_both, "shop2", [{"id": "1"}])
    assert missing_title.json["error"]["details"][0]["path"] == "items[0].title"
    bad_name = _put(api_on_both, "bad name!", [{"id": "1", "title": "a"}])
    assert bad_name.status_code == 422
    assert bad_name.json["error"]["details"][0]["path"] == "path:catalog_id"


def test_unknown_catalog_routes_are_404(api_on_both):
    headers = api_on_both.auth()
    assert api_on_both.client.get("/v1/catalogs/nowhere", headers=headers).status_code == 404
    events = api_on_both.client.post("/v1/catalogs/nowhere/events", headers=headers,
                                  json={"events": [{"shopper_id": "s", "item_id": "1"}]})
    assert events.status_code == 404
    assert api_on_both.client.get("/v1/catalogs/shop").status_code == 401
