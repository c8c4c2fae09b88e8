"""RFM scores (1-5) from absolute thresholds, and the segment they put a shopper in.

Population quintiles need every customer at once; a single profile job sees one shopper,
so scores use fixed thresholds (days and order counts that hold for most retail).
"""

from __future__ import annotations

RECENCY_DAYS = (7, 30, 90, 180)  # at most this many days ago -> score 5, 4, 3, 2; else 1
FREQUENCY_ORDERS = (2, 3, 5, 10)  # at least this many orders -> score 2, 3, 4, 5; else 1
MONETARY_SPEND = (50, 200, 500, 1000)  # at least this much spend -> score 2, 3, 4, 5; else 1


def recency_score(days: float) -> int:
    for score, limit in zip((5, 4, 3, 2), RECENCY_DAYS, strict=True):
        if days <= limit:
            return score
    return 1


def _at_least_score(value: float, thresholds: tuple[float, ...]) -> int:
    return 1 + sum(value >= limit for limit in thresholds)


def segment(recency: int, frequency: int) -> str:
    """The usual R x F grid; every pair of scores maps to exactly one segment."""
    if recency >= 4 and frequency >= 4:
        return "champion"
    if recency >= 3 and frequency >= 3:
        return "loyal"
    if recency >= 4 and frequency == 1:
        return "new"
    if recency >= 3:
        return "promising"
    if frequency >= 3:
        return "at_risk"
    if recency == 2:
        return "about_to_sleep"
    return "hibernating"


def rfm(features: dict) -> dict:
    """Scores and segment; shoppers who never bought are `prospect`."""
    if features["frequency"] == 0:
        return {"segment": "prospect", "r_score": None, "f_score": None, "m_score": None}
    r = recency_score(features["recency_days"])
    f = _at_least_score(features["frequency"], FREQUENCY_ORDERS)
    m = _at_least_score(features["monetary"], MONETARY_SPEND)
    return {"segment": segment(r, f), "r_score": r, "f_score": f, "m_score": m}
