"""Ranking: text similarity to the history blended with co-occurrence, then filters,
exclusions, maximal marginal relevance and a reason for every item."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from shared.schemas.catalogs import Filters
from worker.recommendation.index import CatalogIndex
from worker.recommendation.twins import one_per_group

EVENT_WEIGHTS = {"purchase": 1.0, "cart": 0.6, "view": 0.3}
RECENCY = 0.6  # each step back in the history weighs 0.6 of the step after it
TEXT_WEIGHT = 0.4
COOCCURRENCE_SCALE = 5.0  # co-occurrence is max-normalised, text z-scored: this evens them
MMR_POOL = 10
VERBS = {"purchase": "bought", "cart": "added to your cart", "view": "viewed"}


# Shoppers who had both items before "bought together" is said: one shared basket made an
# unrelated item rank first with a reason naming it.
MIN_SUPPORT = 3


@dataclass(frozen=True)
class Blend:
    """Weights of the signals; a trained model brings its own, chosen on held-out items."""

    text: float = TEXT_WEIGHT
    cooccurrence: float = 1 - TEXT_WEIGHT
    model: float = 0.0


TODAY = Blend()


@dataclass
class HistoryEntry:
    title: str
    event: str
    vector: np.ndarray
    position: int | None  # in the index, when the item is a catalog item
    weight: float = 0.0
    item_id: str | None = None


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
    ranked = np.argsort(-score, kind="stable")
    order = one_per_group(ranked[mask[ranked]], index.groups)[:k]
    events = counts if counts is not None else np.zeros(len(index))
    return [{"id": index.ids[i], "score": round(float(score[i]), 4), "reason": "popular",
             "reason_text": "popular with other shoppers", "title": index.titles[i],
             "evidence": {"history_item": None, "shoppers": None, "similarity": None,
                          "model_score": None, "events": int(events[i])}}
            for i in order]


def rank(index: CatalogIndex, history: list[HistoryEntry], cooccurrence: sparse.csr_matrix | None,
         *, filters: Filters, k: int, exclude_seen: bool, diversity: float,
         support: sparse.csr_matrix | None = None, model_scores: np.ndarray | None = None,
         blend: Blend = TODAY) -> list[dict]:
    """The k best items for this history, each with the reason it was chosen.

    `support` counts the shoppers behind each co-occurrence (reasons cite it);
    `model_scores` are the sequential model's scores for every item of the index."""
    weights, profile = _profile(history)
    scored = signals(index, history, cooccurrence, model_scores, weights, profile)
    candidates = _eligible(index, scored.positions, history, filters, exclude_seen)
    if len(candidates) == 0:
        return []
    parts = scored.parts(blend)
    score = sum(parts.values())
    chosen = _select(candidates, score, scored.vectors, k, diversity,
                     index.groups[scored.positions])
    return _explain(index, history, weights, scored, parts, score, chosen, support)


@dataclass
class Signals:
    """The items a history was scored against, and each signal's score for them."""

    positions: np.ndarray  # their places in the index
    vectors: np.ndarray  # their embeddings
    co: np.ndarray  # (items, history): co-occurrence with each history entry
    scale: float  # evens co-occurrence with the z-scored text score; 0 when there is none
    text: np.ndarray  # similarity to the history's profile, z-scored
    cooccurrence: np.ndarray  # weighted co-occurrence with the history, times `scale`
    model: np.ndarray | None  # the sequential model's scores, z-scored

    def parts(self, blend: Blend) -> dict[str, np.ndarray]:
        """Each signal's weighted share of the score; text alone when nothing was learned
        from shoppers (as before there were models)."""
        if not self.scale and self.model is None:
            return {"text": self.text}
        parts = {"text": blend.text * self.text,
                 "cooccurrence": blend.cooccurrence * self.cooccurrence}
        if self.model is not None:
            parts["model"] = blend.model * self.model
        return parts


def _profile(history: list[HistoryEntry]) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's weight, and the unit-length weighted sum of their vectors."""
    weigh(history)
    weights = np.array([h.weight for h in history])
    profile = (weights[:, None] * np.stack([h.vector for h in history])).sum(axis=0)
    profile /= np.linalg.norm(profile) or 1.0
    return weights, profile


def signals(index: CatalogIndex, history: list[HistoryEntry],
            cooccurrence: sparse.csr_matrix | None, model_scores: np.ndarray | None,
            weights: np.ndarray | None = None, profile: np.ndarray | None = None) -> Signals:
    """Text similarity to the profile (z-scored), co-occurrence when known and the
    sequential model's scores (z-scored) when there is a model."""
    if weights is None or profile is None:
        weights, profile = _profile(history)
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
    model = None if model_scores is None else _zscore(model_scores[positions])
    return Signals(positions, vectors, co, scale, text, co_total * scale, model)


def _eligible(index: CatalogIndex, positions: np.ndarray, history: list[HistoryEntry],
              filters: Filters, exclude_seen: bool) -> np.ndarray:
    """Rows of `positions` that pass the filters (and were not seen, nor twins of a seen
    item, if asked)."""
    mask = allowed(index, filters)[positions]
    if exclude_seen:
        seen = [h.position for h in history if h.position is not None]
        if seen:
            mask &= ~np.isin(index.groups[positions], index.groups[seen])
    return np.flatnonzero(mask)


def _explain(index: CatalogIndex, history: list[HistoryEntry], weights: np.ndarray,
             scored: Signals, parts: dict[str, np.ndarray], score: np.ndarray,
             chosen: list[int], support: sparse.csr_matrix | None) -> list[dict]:
    """Each chosen item with the reason that carries most of its score, and its evidence.

    A co-purchase is only claimed when at least MIN_SUPPORT shoppers had both items: one
    shared basket is an anecdote, not a pattern."""
    similarity = scored.vectors[chosen] @ np.stack([h.vector for h in history]).T
    shoppers = _shoppers(history, scored.positions[chosen], support)
    model = parts.get("model")
    results = []
    for n, row in enumerate(chosen):
        position = scored.positions[row]
        co_source = int(np.argmax(weights * scored.co[row]))
        text_source = int(np.argmax(weights * similarity[n]))
        co_part = parts["cooccurrence"][row] if "cooccurrence" in parts else 0.0
        if shoppers[n, co_source] >= MIN_SUPPORT and (model is None or co_part >= model[row]):
            reason, source = "bought_together", co_source
        elif model is not None and model[row] > parts["text"][row]:
            reason, source = "sequence_model", text_source
        else:
            reason, source = "similar_to_history", text_source
        entry = history[source]
        evidence = {
            "history_item": entry.item_id or entry.title,
            "shoppers": int(shoppers[n, source]),
            "similarity": round(float(similarity[n, source]), 4),
            "model_score": None if scored.model is None else round(float(scored.model[row]), 4),
        }
        results.append({
            "id": index.ids[position], "score": round(float(score[row]), 4),
            "reason": reason, "reason_text": _reason_text(reason, entry, evidence),
            "evidence": evidence, "title": index.titles[position],
        })
    return results


def _shoppers(history: list[HistoryEntry], positions: np.ndarray,
              support: sparse.csr_matrix | None) -> np.ndarray:
    """(chosen items, history): how many shoppers had both."""
    counts = np.zeros((len(positions), len(history)), dtype=np.int64)
    known = [column for column, entry in enumerate(history) if entry.position is not None]
    if support is not None and known:
        # Rows of a CSR matrix are cheap; picking its columns is not (5x the whole ranker).
        rows = support[[history[column].position for column in known]].toarray()
        counts[:, known] = rows[:, positions].T
    return counts


def _reason_text(reason: str, entry: HistoryEntry, evidence: dict) -> str:
    because = f"because you {VERBS[entry.event]} {entry.title}"
    if reason == "bought_together":
        return f"{because}: {evidence['shoppers']} shoppers had both"
    if reason == "sequence_model":
        return f"{because}, and shoppers whose history looks like yours chose this next"
    return f"{because} (text similarity {evidence['similarity']:.2f})"


def _select(candidates: np.ndarray, score: np.ndarray, vectors: np.ndarray, k: int,
            diversity: float, groups: np.ndarray) -> list[int]:
    """Top k by score, or by maximal marginal relevance when diversity > 0; one listing
    per product (twins share a group)."""
    ranked = one_per_group(candidates[np.argsort(-score[candidates], kind="stable")], groups)
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
