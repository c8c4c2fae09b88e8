"""Leave-last-out ranking metrics, where a twin listing of the target counts as the target
only because the catalog groups them (worker/recommendation/twins.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

K = 10


def hit_and_gain(ranked: list[int] | np.ndarray, target: int,
                 groups: np.ndarray) -> tuple[int, float]:
    """(hit@K, NDCG@K) of one ranked list of index positions for one held-out position."""
    wanted = groups[target]
    for rank, position in enumerate(list(ranked)[:K]):
        if groups[position] == wanted:
            return 1, 1 / math.log2(rank + 2)
    return 0, 0.0


@dataclass
class Tally:
    hits: int = 0
    gain: float = 0.0
    shoppers: int = 0

    def add(self, hit: int, gain: float) -> None:
        self.hits, self.gain, self.shoppers = self.hits + hit, self.gain + gain, \
            self.shoppers + 1

    def as_dict(self) -> dict[str, float]:
        n = max(self.shoppers, 1)
        return {"hit_at_10": round(self.hits / n, 4), "ndcg_at_10": round(self.gain / n, 4)}


@dataclass
class Tallies:
    by_name: dict[str, Tally] = field(default_factory=dict)

    def add(self, name: str, ranked, target: int, groups: np.ndarray) -> None:
        self.by_name.setdefault(name, Tally()).add(*hit_and_gain(ranked, target, groups))

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {name: tally.as_dict() for name, tally in self.by_name.items()}


def top_unseen(score: np.ndarray, excluded: np.ndarray, k: int = K) -> np.ndarray:
    """The k best positions by `score` among those not excluded (a boolean mask)."""
    masked = np.where(excluded, -np.inf, score)
    top = np.argpartition(-masked, k)[:k] if len(masked) > k else np.arange(len(masked))
    return top[np.argsort(-masked[top], kind="stable")]
