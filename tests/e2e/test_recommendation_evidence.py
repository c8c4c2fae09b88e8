"""Duplicate listings and reasons with evidence, through the API and a real cpu worker."""

from __future__ import annotations

import pytest

from tests.support.processes import wait_for

ITEMS = [
    {"id": "phone", "title": "Big-button corded phone", "brand": "Acme",
     "category": "Telephones"},
    # The same product listed again: case, punctuation and an HTML entity differ.
    {"id": "phone-relisted", "title": "BIG BUTTON  corded phone!", "brand": "ACME",
     "category": "Telephones"},
    {"id": "phone-2-pack", "title": "Big-button corded phone, 2-pack", "brand": "Acme",
     "category": "Telephones"},
    {"id": "phone-other-brand", "title": "Big-button corded phone", "brand": "Tel&amp;Co",
     "category": "Telephones"},
    {"id": "headset", "title": "Telephone headset with noise-cancelling microphone",
     "category": "Telephones"},
    {"id": "hose", "title": "Garden hose, 20 m", "category": "Garden"},
    {"id": "lamp", "title": "LED desk lamp", "category": "Lighting"},
    {"id": "stapler", "title": "Red stapler", "category": "Office"},
]
# One shopper had the phone and the hose; four had the phone and the lamp.
EVENTS = ([{"shopper_id": "s0", "item_id": "phone"}, {"shopper_id": "s0", "item_id": "hose"}]
          + [{"shopper_id": f"s{n}", "item_id": item} for n in range(1, 5)
             for item in ("phone", "lamp")])


@pytest.fixture(scope="module")
def shop(stack):
    """Catalog `evidence`: a phone, its twin listing, near misses and two co-purchases."""
    response = stack.client.put("/v1/catalogs/evidence/items", json={"items": ITEMS},
                                headers=stack.auth())
    assert response.status_code == 202, response.json
    wait_for(lambda: stack.client.get("/v1/catalogs/evidence", headers=stack.auth())
             .json["embedded"] == len(ITEMS), 120, interval=0.3, what="embedding")
    response = stack.client.post("/v1/catalogs/evidence/events", json={"events": EVENTS},
                                 headers=stack.auth())
    assert response.status_code == 202, response.json
    return stack


def _recommend(stack, **input_) -> list[dict]:
    job = stack.run("recommendation", {"catalog_id": "evidence", **input_}, timeout=120)
    assert job["status"] == "succeeded", job["error"]
    return job["result"]["items"]


def test_a_twin_listing_is_never_recommended_after_a_purchase(shop):
    items = _recommend(shop, history=[{"item_id": "phone", "event": "purchase"}],
                       k=len(ITEMS))
    ids = [i["id"] for i in items]
    assert "phone-relisted" not in ids and "phone" not in ids
    # Near misses are other products: another pack size, another brand.
    assert {"phone-2-pack", "phone-other-brand"} <= set(ids)


def test_one_listing_per_product_when_seen_items_may_come_back(shop):
    items = _recommend(shop, history=[{"item_id": "headset", "event": "view"}],
                       k=len(ITEMS), exclude_seen=False)
    ids = [i["id"] for i in items]
    assert len({"phone", "phone-relisted"} & set(ids)) == 1
    cold = _recommend(shop, history=[], k=len(ITEMS))
    assert len({"phone", "phone-relisted"} & {i["id"] for i in cold}) == 1


def test_co_purchase_is_claimed_only_with_enough_shoppers(shop):
    items = {i["id"]: i for i in _recommend(
        shop, history=[{"item_id": "phone", "event": "purchase"}], k=len(ITEMS))}
    lamp, hose = items["lamp"], items["hose"]
    assert lamp["reason"] == "bought_together"
    assert lamp["evidence"]["shoppers"] == 4 and lamp["evidence"]["history_item"] == "phone"
    assert "4 shoppers" in lamp["reason_text"]
    # One shared basket is not a pattern: the reason falls back to what the text says.
    assert hose["reason"] == "similar_to_history"
    assert hose["evidence"]["shoppers"] == 1
    assert "had both" not in hose["reason_text"] and "text similarity" in hose["reason_text"]
    for item in items.values():
        evidence = item["evidence"]
        assert -1.0 <= evidence["similarity"] <= 1.0
        if item["reason"] == "bought_together":
            assert evidence["shoppers"] >= 3
        else:
            assert "had both" not in item["reason_text"]
