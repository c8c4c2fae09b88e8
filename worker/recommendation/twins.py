"""Duplicate listings: items whose normalised title and brand match are one product.

Shops list the same thing twice (a re-listing, a second seller's offer): recommending the
second listing to someone who bought the first is recommending what they already have, and
counting it as a hit flatters an evaluation. The rule is deliberately strict (same brand,
same title after normalising case, HTML entities, Unicode forms and punctuation) so that a
2-pack and a 12-pack stay apart; anything looser would need the catalog to say so.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

_WORDS = re.compile(r"[^\W_]+")


def listing_key(title: str, brand: str | None) -> str:
    """The identity of a listing's product: brand and title, normalised."""

    def normalise(text: str | None) -> str:
        folded = unicodedata.normalize("NFKC", html.unescape(text or "")).casefold()
        return " ".join(_WORDS.findall(folded))

    return f"{normalise(brand)}\x1f{normalise(title)}"


def group_listings(titles: Sequence[str], brands: Sequence[str | None]) -> np.ndarray:
    """One group number per item; twins share theirs (the position of the first listing)."""
    first: dict[str, int] = {}
    groups = np.empty(len(titles), dtype=np.int64)
    for position, (title, brand) in enumerate(zip(titles, brands, strict=True)):
        groups[position] = first.setdefault(listing_key(title, brand), position)
    return groups


def one_per_group(ranked: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """`ranked` (best first) keeping only the best listing of each product."""
    _, first = np.unique(groups[ranked], return_index=True)
    return ranked[np.sort(first)]
