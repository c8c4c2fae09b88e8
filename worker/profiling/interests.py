"""Interest tags: a shopper's items embedded and matched against a tag taxonomy.

Each item spreads its weight over tags by a sharp softmax of cosine similarity, so it counts
mostly toward its best one or two tags; a tag's score is its share of the shopper's weighted
attention. Purchases weigh more than carts, carts than searches and views, and older events
decay with a half-life, so the tags describe what the shopper is into now.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from shared.schemas.user_profile import EventType, ShopperEvent
from worker.models.embeddings import Embedder
from worker.profiling.taxonomy import DEFAULT_TAXONOMY, tag_text

EVENT_WEIGHTS = {EventType.PURCHASE: 1.0, EventType.CART: 0.5,
                 EventType.SEARCH: 0.4, EventType.VIEW: 0.2}
HALF_LIFE_DAYS = 180.0
# Cosine similarities from MiniLM differ by tenths; 0.05 makes a 0.1 lead worth e^2.
SOFTMAX_TEMPERATURE = 0.05
MIN_TAG_SCORE = 0.01
EVIDENCE_PER_TAG = 3


@dataclass(frozen=True)
class Taxonomy:
    names: tuple[str, ...]
    vectors: np.ndarray  # (tags, dim), unit length


def event_text(event: ShopperEvent) -> str:
    if event.type is EventType.SEARCH:
        return (event.query or event.title or "").strip()
    text = (event.title or event.item_id or "").strip()
    return f"{text} ({event.category})" if event.category else text


def event_weight(event: ShopperEvent, as_of: datetime) -> float:
    weight = EVENT_WEIGHTS[event.type]
    if event.type is EventType.PURCHASE:
        weight *= 1.0 + math.log(event.quantity)
    age_days = max(0.0, (as_of - event.timestamp).total_seconds() / 86_400)
    return weight * 0.5 ** (age_days / HALF_LIFE_DAYS)


class TaxonomyCache:
    """Embeds each taxonomy once per process: the default one on first use, custom ones LRU."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._cached = lru_cache(maxsize=32)(self._embed)

    def get(self, tags: tuple[tuple[str, str | None], ...] | None) -> Taxonomy:
        return self._cached(tags or DEFAULT_TAXONOMY)

    def _embed(self, tags: tuple[tuple[str, str | None], ...]) -> Taxonomy:
        vectors = self._embedder.encode([tag_text(name, desc) for name, desc in tags])
        return Taxonomy(names=tuple(name for name, _ in tags), vectors=vectors)


def _softmax_rows(similarities: np.ndarray) -> np.ndarray:
    scaled = similarities / SOFTMAX_TEMPERATURE
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class InterestProfile:
    tags: list[dict]
    best_tag_by_text: dict[str, str]


def interest_profile(
    events: list[ShopperEvent], as_of: datetime, taxonomy: Taxonomy, embedder: Embedder,
    top: int,
) -> InterestProfile:
    """Top tags with scores (shares summing to at most 1) and the items behind each."""
    weight_by_text: dict[str, float] = defaultdict(float)
    for event in events:
        text = event_text(event)
        if text:
            weight_by_text[text] += event_weight(event, as_of)
    texts = list(weight_by_text)
    if not texts:
        return InterestProfile(tags=[], best_tag_by_text={})
    weights = np.array([weight_by_text[t] for t in texts], dtype=np.float64)
    similarities = embedder.encode(texts) @ taxonomy.vectors.T
    assignment = _softmax_rows(similarities.astype(np.float64))
    contribution = assignment * weights[:, None]
    scores = contribution.sum(axis=0) / weights.sum()

    tags = []
    for index in np.argsort(-scores)[:top]:
        if scores[index] < MIN_TAG_SCORE:
            break
        evidence_rows = np.argsort(-contribution[:, index])[:EVIDENCE_PER_TAG]
        tags.append({
            "tag": taxonomy.names[index],
            "score": round(float(scores[index]), 4),
            "evidence": [texts[row] for row in evidence_rows if contribution[row, index] > 0],
        })
    best = similarities.argmax(axis=1)
    return InterestProfile(
        tags=tags, best_tag_by_text={t: taxonomy.names[best[i]] for i, t in enumerate(texts)}
    )
