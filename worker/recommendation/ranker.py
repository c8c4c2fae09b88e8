"""Ranking: text similarity to the history blended with co-occurrence, then filters,
exclusions, maximal marginal relevance and a reason for every item."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from shared.schemas.catalogs import Filters
from worker.recommendation.index import CatalogIndex

EVENT_WEIGHTS = {"purchase": 1.0, "cart": 0.6, "view": 0.3}
RECENCY = 0.6  # each step back in the history weighs 0.6 of the step after it
TEXT_WEIGHT = 0.4
COOCCURRENCE_SCALE = 5.0  # co-occurrence is max-normalised, text z-scored: this evens them
MMR_POOL = 10
VERBS = {"purchase": "bought", "cart": "added to your cart", "view": "viewed"}


@dataclass
class HistoryEntry:
    title: str
    event: str
    vector: np.ndarray
    position: int | None  # in the index, when the item is a catalog item
    weight: float = 0.0


def weigh(history: list[HistoryEntry]) -> None:
    """Later and stronger events weigh more (the list is oldest first)."""
    for steps_back, entry in enumerate(reversed(history)):
        entry.weight = EVENT_WEIGHTS[entry.event] * RECENCY ** steps_back


def allowed(index: CatalogIndex, filters: Filters) -> np.ndarray:
    mask = np.ones(len(index), dtype=bool)
    if filters.category:
        needle = filters.category.lower()
        mask &= np.array([needle in category for category in index.categories], dtype=bool)
    if filters.min_price is not None:
        mask &= np.nan_to_num(index.prices, nan=-1.0) >= filters.min_price
    if filters.max_price is not None:
        mask &= np.nan_to_num(index.prices, nan=np.inf) <= filters.max_price
    if filters.in_stock is not None:
        mask &= index.in_stock == filters.in_stock
    return mask


def _zscore(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else values * 0


def popular(index: CatalogIndex, counts: np.ndarray | None, mask: np.ndarray,
            k: int) -> list[dict]:
    """Cold start: the most popular items that pass the filters (catalog field + events)."""
    score = index.popularity + (counts if counts is not None else 0)
    order = [i for i in np.argsort(-score, kind="stable") if mask[i]][:k]
    return [{"id": index.ids[i], "score": round(float(score[i]), 4), "reason": "popular",
             "reason_text": "popular with other shoppers", "title": index.titles[i]}
            for i in order]


def rank(index: CatalogIndex, history: list[HistoryEntry], cooccurrence: sparse.csr_matrix | None,
         *, filters: Filters, k: int, exclude_seen: bool, diversity: float) -> list[dict]:
    """The k best items for this history, each with the reason it was chosen."""
    weights, profile = _profile(history)
    scored = _score(index, history, weights, profile, cooccurrence)
    candidates = _eligible(index, scored.positions, history, filters, exclude_seen)
    if len(candidates) == 0:
        return []
    chosen = _select(candidates, scored.score, scored.vectors, k, diversity)
    return _explain(index, history, weights, scored, chosen)


@dataclass
class _Scored:
    """The items a history was scored against, and how."""

    positions: np.ndarray  # their places in the index
    vectors: np.ndarray  # their embeddings
    co: np.ndarray  # (items, history): co-occurrence with each history entry
    scale: float  # evens co-occurrence with the z-scored text score; 0 when there is none
    score: np.ndarray  # the blended score


def _profile(history: list[HistoryEntry]) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's weight, and the unit-length weighted sum of their vectors."""
    weigh(history)
    weights = np.array([h.weight for h in history])
    profile = (weights[:, None] * np.stack([h.vector for h in history])).sum(axis=0)
    profile /= np.linalg.norm(profile) or 1.0
    return weights, profile


def _score(index: CatalogIndex, history: list[HistoryEntry], weights: np.ndarray,
           profile: np.ndarray, cooccurrence: sparse.csr_matrix | None) -> _Scored:
    """Text similarity to the profile (z-scored), blended with co-occurrence when known."""
    pool = index.candidates(profile)
    positions = np.arange(len(index)) if pool is None else np.asarray(pool)
    vectors = index.vectors if pool is None else index.vectors[positions]  # no copy when exact
    text = _zscore(vectors @ profile)
    co = np.zeros((len(positions), len(history)))
    known = [column for column, entry in enumerate(history) if entry.position is not None]
    if cooccurrence is not None and known:
        rows = cooccurrence[[history[column].position for column in known]].toarray()
        co[:, known] = (rows if pool is None else rows[:, positions]).T
    co_total = co @ weights
    scale = COOCCURRENCE_SCALE / co_total.max() if co_total.max() > 0 else 0.0
    score = TEXT_WEIGHT * text + (1 - TEXT_WEIGHT) * co_total * scale if scale else text
    return _Scored(positions, vectors, co, scale, score)


def _eligible(index: CatalogIndex, positions: np.ndarray, history: list[HistoryEntry],
              filters: Filters, exclude_seen: bool) -> np.ndarray:
    """Rows of `positions` that pass the filters (and were not seen, if asked)."""
    mask = allowed(index, filters)[positions]
    if exclude_seen:
        seen = {h.position for h in history if h.position is not None}
        mask &= np.array([p not in seen for p in positions], dtype=bool)
    return np.flatnonzero(mask)


def _explain(index: CatalogIndex, history: list[HistoryEntry], weights: np.ndarray,
             scored: _Scored, chosen: list[int]) -> list[dict]:
    """Each chosen item, with the history entry that contributes most to its score."""
    similarity = scored.vectors @ np.stack([h.vector for h in history]).T  # (items, history)
    contribution = weights[None, :] * (TEXT_WEIGHT * similarity
                                       + (1 - TEXT_WEIGHT) * scored.co * scored.scale)
    results = []
    for row in chosen:
        source = history[int(np.argmax(contribution[row]))]
        position = scored.positions[row]
        results.append({
            "id": index.ids[position], "score": round(float(scored.score[row]), 4),
            "reason": "similar_to_history" if not scored.co[row].any() else "bought_together",
            "reason_text": f"because you {VERBS[source.event]} {source.title}",
            "title": index.titles[position],
        })
    return results


def _select(candidates: np.ndarray, score: np.ndarray, vectors: np.ndarray, k: int,
            diversity: float) -> list[int]:
    """Top k by score, or by maximal marginal relevance when diversity > 0."""
    ranked = candidates[np.argsort(-score[candidates], kind="stable")]
    if diversity <= 0:
        return [int(i) for i in ranked[:k]]
    pool = ranked[: max(k * MMR_POOL, k)]
    relevance = score[pool]
    spread = relevance.max() - relevance.min()
    relevance = (relevance - relevance.min()) / spread if spread > 0 else relevance * 0 + 1
    chosen: list[int] = []
    taken = np.zeros(len(pool), dtype=bool)
    redundancy = np.full(len(pool), -1.0)
    pool_vectors = vectors[pool]
    for _ in range(min(k, len(pool))):
        value = (1 - diversity) * relevance - diversity * np.maximum(redundancy, 0)
        value[taken] = -np.inf
        best = int(np.argmax(value))
        taken[best] = True
        chosen.append(int(pool[best]))
        redundancy = np.maximum(redundancy, pool_vectors @ pool_vectors[best])
    return chosen
