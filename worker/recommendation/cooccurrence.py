"""Item-to-item co-occurrence learned from a catalog's shopper event sequences.

Within each shopper's time-ordered sequence, an item followed by another within three steps
adds 1/distance to (earlier -> later) and half that to (later -> earlier): what shoppers buy
next matters most. Columns are divided by their total to the power 0.3 so that items everyone
buys do not dominate. Measured on Amazon Office (leave-last-out): this alone gives hit@10
0.110; blended with text similarity, 0.127.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sqlalchemy import select

from shared.db import Database
from shared.models import CatalogEvent

WINDOW = 3
BACKWARD = 0.5
POPULARITY_DAMPING = 0.3


def build_support(sequences: list[list[int]], size: int) -> sparse.csr_matrix:
    """How many shoppers had each pair of items within WINDOW steps of each other (either
    order; a shopper counts once per pair): the evidence a "bought together" reason cites."""
    rows, cols = [], []
    for sequence in sequences:
        pairs = {(min(a, b), max(a, b)) for i, a in enumerate(sequence)
                 for b in sequence[i + 1:i + 1 + WINDOW] if a != b}
        for a, b in pairs:
            rows += [a, b]
            cols += [b, a]
    return sparse.coo_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                             shape=(size, size)).tocsr()


def build(sequences: list[list[int]], size: int) -> sparse.csr_matrix:
    rows, cols, values = [], [], []
    for sequence in sequences:
        for i, earlier in enumerate(sequence):
            for distance in range(1, WINDOW + 1):
                if i + distance >= len(sequence):
                    break
                later = sequence[i + distance]
                if later == earlier:
                    continue
                rows += [earlier, later]
                cols += [later, earlier]
                values += [1.0 / distance, BACKWARD / distance]
    matrix = sparse.coo_matrix((values, (rows, cols)), shape=(size, size)).tocsr()
    column_totals = np.asarray(matrix.sum(axis=0)).ravel() + 1.0
    return (matrix @ sparse.diags(1.0 / column_totals ** POPULARITY_DAMPING)).tocsr()


@dataclass(frozen=True)
class Cooccurrence:
    """What a catalog's events say, in its index's item order."""

    matrix: sparse.csr_matrix  # the ranking signal (see the module docstring)
    counts: np.ndarray  # events per item
    support: sparse.csr_matrix  # shoppers per pair (build_support)


def read_sequences(db: Database, catalog_id: uuid.UUID, position: dict[str, int]
                   ) -> dict[str, list[int]]:
    """Each shopper's items (positions in `position`), oldest first; unknown items skipped."""
    with db.session() as session:
        rows = session.execute(
            select(CatalogEvent.shopper_id, CatalogEvent.item_id)
            .where(CatalogEvent.catalog_id == catalog_id)
            .order_by(CatalogEvent.shopper_id, CatalogEvent.occurred_at, CatalogEvent.id)
        ).all()
    sequences: dict[str, list[int]] = defaultdict(list)
    for shopper, item_id in rows:
        if (index := position.get(item_id)) is not None:
            sequences[shopper].append(index)
    return dict(sequences)


class CooccurrenceCache:
    """Per catalog, rebuilt when new events arrive or the catalog's items change."""

    def __init__(self) -> None:
        self._cache: dict[uuid.UUID, tuple[tuple, Cooccurrence]] = {}
        self._lock = threading.Lock()

    def get(self, db: Database, catalog_id: uuid.UUID, position: dict[str, int],
            key: tuple) -> Cooccurrence:
        """The catalog's co-occurrence, event counts and support, in the index's item order.

        `key` names the events version and the index it is aligned with."""
        with self._lock:
            cached = self._cache.get(catalog_id)
            if cached and cached[0] == key:
                return cached[1]
        sequences = list(read_sequences(db, catalog_id, position).values())
        counts = np.zeros(len(position))
        for sequence in sequences:
            np.add.at(counts, sequence, 1)
        built = Cooccurrence(build(sequences, len(position)), counts,
                             build_support(sequences, len(position)))
        with self._lock:
            self._cache[catalog_id] = (key, built)
        return built
