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

import numpy as np
from scipy import sparse
from sqlalchemy import select

from shared.db import Database
from shared.models import CatalogEvent

WINDOW = 3
BACKWARD = 0.5
POPULARITY_DAMPING = 0.3


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


class CooccurrenceCache:
    """Per catalog, rebuilt when new events arrive or the catalog's items change."""

    def __init__(self) -> None:
        self._cache: dict[uuid.UUID, tuple[tuple[int, int], sparse.csr_matrix, np.ndarray]] = {}
        self._lock = threading.Lock()

    def get(self, db: Database, catalog_id: uuid.UUID, position: dict[str, int],
            key: tuple) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The co-occurrence matrix and per-item event counts, in the index's item order.

        `key` names the events version and the index it is aligned with."""
        with self._lock:
            cached = self._cache.get(catalog_id)
            if cached and cached[0] == key:
                return cached[1], cached[2]
        with db.session() as session:
            rows = session.execute(
                select(CatalogEvent.shopper_id, CatalogEvent.item_id)
                .where(CatalogEvent.catalog_id == catalog_id)
                .order_by(CatalogEvent.shopper_id, CatalogEvent.occurred_at, CatalogEvent.id)
            ).all()
        sequences: dict[str, list[int]] = defaultdict(list)
        counts = np.zeros(len(position))
        for shopper, item_id in rows:
            if (index := position.get(item_id)) is not None:
                sequences[shopper].append(index)
                counts[index] += 1
        matrix = build(list(sequences.values()), len(position))
        with self._lock:
            self._cache[catalog_id] = (key, matrix, counts)
        return matrix, counts
