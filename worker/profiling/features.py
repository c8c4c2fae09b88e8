"""Behaviour features computed from a shopper's events: plain arithmetic, no model."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from shared.schemas.user_profile import EventType, ShopperEvent

DEFAULT_PRICE_BAND_EDGES = (5.0, 25.0, 100.0)
PRICE_BANDS = ("budget", "mid", "premium", "luxury")
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Order:
    """Purchase lines sharing an order_id (or, without one, a timestamp)."""

    placed_at: datetime
    total: float
    units: int


def group_orders(purchases: list[ShopperEvent]) -> list[Order]:
    """Orders oldest first; lines without order_id group by identical timestamp."""
    lines: dict[str, list[ShopperEvent]] = defaultdict(list)
    for event in purchases:
        lines[event.order_id or f"@{event.timestamp.isoformat()}"].append(event)
    orders = [
        Order(
            placed_at=min(e.timestamp for e in group),
            total=sum(e.quantity * (e.price or 0.0) for e in group),
            units=sum(e.quantity for e in group),
        )
        for group in lines.values()
    ]
    return sorted(orders, key=lambda order: order.placed_at)


def _days(seconds: float) -> float:
    return round(seconds / SECONDS_PER_DAY, 2)


def price_band(unit_price: float | None, edges: tuple[float, float, float]) -> str | None:
    if unit_price is None:
        return None
    for band, edge in zip(PRICE_BANDS, edges, strict=False):
        if unit_price < edge:
            return band
    return PRICE_BANDS[-1]


def behaviour_features(
    events: list[ShopperEvent],
    as_of: datetime,
    price_band_edges: tuple[float, float, float] = DEFAULT_PRICE_BAND_EDGES,
) -> dict:
    """Recency, frequency, monetary value, order intervals, activity and price band."""
    purchases = [e for e in events if e.type is EventType.PURCHASE]
    return {**_order_features(group_orders(purchases), as_of),
            **_activity_features(events, as_of),
            **_price_features(purchases, price_band_edges)}


def _order_features(orders: list[Order], as_of: datetime) -> dict:
    """RFM's inputs and the rhythm of buying: days since the last order, between orders."""
    monetary = sum(order.total for order in orders)
    gaps = [
        (later.placed_at - earlier.placed_at).total_seconds() / SECONDS_PER_DAY
        for earlier, later in zip(orders, orders[1:], strict=False)
    ]
    return {
        "recency_days": _days((as_of - orders[-1].placed_at).total_seconds()) if orders else None,
        "frequency": len(orders),
        "monetary": round(monetary, 2),
        "average_order_value": round(monetary / len(orders), 2) if orders else None,
        "mean_days_between_purchases": round(statistics.fmean(gaps), 2) if gaps else None,
        "median_days_between_purchases": round(statistics.median(gaps), 2) if gaps else None,
        "units_purchased": sum(order.units for order in orders),
    }


def _activity_features(events: list[ShopperEvent], as_of: datetime) -> dict:
    """What the shopper did, and over how long: every event counts, not only purchases."""
    counts = Counter(e.type.value for e in events)
    first_seen = min(e.timestamp for e in events)
    last_seen = max(e.timestamp for e in events)
    return {
        "distinct_items": len({e.item_id or e.title for e in events
                               if e.type is not EventType.SEARCH}),
        "event_counts": {t.value: counts.get(t.value, 0) for t in EventType},
        "first_seen": first_seen.isoformat().replace("+00:00", "Z"),
        "last_seen": last_seen.isoformat().replace("+00:00", "Z"),
        "tenure_days": _days((as_of - first_seen).total_seconds()),
        "active_days": len({e.timestamp.date() for e in events}),
    }


def _price_features(purchases: list[ShopperEvent],
                    edges: tuple[float, float, float]) -> dict:
    """The median unit price paid and its band (budget, mid, premium, luxury)."""
    unit_prices = [e.price for e in purchases if e.price is not None]
    median_unit_price = statistics.median(unit_prices) if unit_prices else None
    return {
        "median_unit_price": round(median_unit_price, 2) if median_unit_price is not None else None,
        "price_band": price_band(median_unit_price, edges),
    }


def spend_by_category(purchases: list[ShopperEvent]) -> dict[str, float]:
    """Spend per category for purchase lines that carry one."""
    spend: dict[str, float] = defaultdict(float)
    for event in purchases:
        if event.category:
            spend[event.category] += event.quantity * (event.price or 0.0)
    return dict(spend)
