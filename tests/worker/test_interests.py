"""Interest weights: purchases outweigh carts, searches and views, and every event decays
with a 180-day half-life (README "user_profile"); with the real MiniLM, the decay alone
moves the tags."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from shared.schemas.user_profile import ShopperEvent
from worker.profiling.interests import TaxonomyCache, event_weight, interest_profile

AS_OF = datetime(2011, 12, 9, tzinfo=UTC)


def _event(kind: str, days_ago: float, title: str = "RED MUG", **extra) -> ShopperEvent:
    return ShopperEvent(type=kind, timestamp=AS_OF - timedelta(days=days_ago), title=title,
                        **({"price": 1.0} if kind == "purchase" else {}), **extra)


@pytest.mark.parametrize(("kind", "days_ago", "quantity", "weight"), [
    ("purchase", 0, 1, 1.0),
    ("purchase", 0, 4, 1.0 + math.log(4)),
    ("purchase", 180, 1, 0.5),
    ("purchase", 360, 2, (1.0 + math.log(2)) / 4),
    ("cart", 0, 1, 0.5),
    ("search", 90, 1, 0.4 * 0.5 ** 0.5),
    ("view", 540, 1, 0.2 / 8),
    ("view", -3, 1, 0.2),  # a timestamp after as_of is not weighed up
])
def test_event_weights_follow_type_quantity_and_half_life(kind, days_ago, quantity, weight):
    extra = {"quantity": quantity} if kind == "purchase" else {}
    if kind == "search":
        extra["query"] = "red mug"
    assert event_weight(_event(kind, days_ago, **extra), AS_OF) == pytest.approx(weight)


@pytest.mark.slow
def test_recency_alone_moves_the_tags(embedder):
    """The same purchases of garden and of christmas items; only their age differs. Two
    years make garden's weight 2^-4 of christmas's, so christmas leads; at equal age the
    ratio of their scores is what the items alone give, and ageing garden divides it by ~16."""
    taxonomy = TaxonomyCache(embedder).get(None)
    garden = ["GARDEN KNEELING PAD", "WATERING CAN GREEN", "GARDEN TOOL SET"]
    christmas = ["CHRISTMAS TREE DECORATION", "CHRISTMAS STAR LIGHTS", "ADVENT CALENDAR"]

    def scores(garden_age: float) -> dict[str, float]:
        events = [_event("purchase", garden_age, t) for t in garden] + \
                 [_event("purchase", 7, t) for t in christmas]
        profile = interest_profile(events, AS_OF, taxonomy, embedder, top=10)
        return {t["tag"]: t["score"] for t in profile.tags}

    same_age, aged = scores(7), scores(7 + 720)
    assert "garden & outdoor" in same_age and "christmas" in same_age
    assert aged["christmas"] > aged.get("garden & outdoor", 0.0)
    before = same_age["christmas"] / same_age["garden & outdoor"]
    after = aged["christmas"] / aged.get("garden & outdoor", 0.0001)
    assert 8 < after / before < 32, (before, after)
