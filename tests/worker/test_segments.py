"""RFM scores from the fixed thresholds (recency 7/30/90/180 days, orders 2/3/5/10, spend
50/200/500/1000) and the R x F segment grid, at every boundary."""

from __future__ import annotations

import pytest

from worker.profiling.segments import rfm, segment


@pytest.mark.parametrize(("days", "r_score"), [
    (0, 5), (7, 5), (7.01, 4), (30, 4), (30.5, 3), (90, 3), (91, 2), (180, 2), (180.01, 1),
    (2000, 1)])
def test_recency_score_boundaries(days, r_score):
    assert rfm({"frequency": 1, "recency_days": days, "monetary": 10})["r_score"] == r_score


@pytest.mark.parametrize(("orders", "f_score"), [
    (1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (9, 4), (10, 5), (500, 5)])
def test_frequency_score_boundaries(orders, f_score):
    assert rfm({"frequency": orders, "recency_days": 1, "monetary": 10})["f_score"] == f_score


@pytest.mark.parametrize(("spend", "m_score"), [
    (0, 1), (49.99, 1), (50, 2), (199.99, 2), (200, 3), (500, 4), (999.99, 4), (1000, 5)])
def test_monetary_score_boundaries(spend, m_score):
    assert rfm({"frequency": 1, "recency_days": 1, "monetary": spend})["m_score"] == m_score


# Every (r, f) pair of the grid, written out.
GRID = {
    5: ["new", "promising", "loyal", "champion", "champion"],
    4: ["new", "promising", "loyal", "champion", "champion"],
    3: ["promising", "promising", "loyal", "loyal", "loyal"],
    2: ["about_to_sleep", "about_to_sleep", "at_risk", "at_risk", "at_risk"],
    1: ["hibernating", "hibernating", "at_risk", "at_risk", "at_risk"],
}


@pytest.mark.parametrize("r", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("f", [1, 2, 3, 4, 5])
def test_every_score_pair_has_its_segment(r, f):
    assert segment(r, f) == GRID[r][f - 1]


def test_a_shopper_who_never_bought_is_a_prospect_without_scores():
    assert rfm({"frequency": 0, "recency_days": None, "monetary": 0}) == {
        "segment": "prospect", "r_score": None, "f_score": None, "m_score": None}
    assert rfm({"frequency": 10, "recency_days": 3, "monetary": 1000}) == {
        "segment": "champion", "r_score": 5, "f_score": 5, "m_score": 5}
