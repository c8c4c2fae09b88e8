"""A catalog's embedded items as one matrix, cached per process by catalog version.

Brute-force cosine over the matrix is exact and fast for small catalogs (2,420 items score in
well under a millisecond); at VITRINE_ANN_MIN_ITEMS and above, a faiss HNSW index proposes the
candidates and the exact scores rank them.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select

from shared.db import Database
from shared.models import Catalog, CatalogItem
from worker.recommendation.twins import group_listings

HNSW_NEIGHBOURS = 32
ANN_CANDIDATES = 1000


@dataclass
class CatalogIndex:
    catalog_id: uuid.UUID
    version: int
    ids: list[str]
    position: dict[str, int]
    vectors: np.ndarray  # (items, dim), unit length
    titles: list[str]
    categories: list[str]
    prices: np.ndarray  # nan where unknown
    in_stock: np.ndarray
    popularity: np.ndarray
    ann: object | None = None
    not_yet_embedded: int = 0  # catalog items still waiting for their embedding
    # The product each item lists (worker/recommendation/twins.py): twins share a number.
    # None: every item is its own product.
    groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.groups is None:
            self.groups = np.arange(len(self.ids), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def candidates(self, query: np.ndarray) -> np.ndarray | None:
        """Positions worth scoring exactly, or None for all of them (no ANN index)."""
        if self.ann is None:
            return None
        _, found = self.ann.search(query[None, :].astype(np.float32),
                                   min(ANN_CANDIDATES, len(self)))
        return found[0][found[0] >= 0]


def _build_ann(vectors: np.ndarray):
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efSearch = 128
    index.add(vectors)
    return index


def load_index(db: Database, catalog_id: uuid.UUID, ann_min_items: int) -> CatalogIndex:
    with db.session() as session:
        version = session.scalar(select(Catalog.version).where(Catalog.id == catalog_id))
        rows = session.execute(select(
            CatalogItem.item_id, CatalogItem.title, CatalogItem.brand, CatalogItem.category,
            CatalogItem.price,
            CatalogItem.in_stock, CatalogItem.popularity, CatalogItem.embedding,
        ).where(CatalogItem.catalog_id == catalog_id,
                CatalogItem.embedded_hash == CatalogItem.content_hash)).all()
        total = session.scalar(select(func.count()).where(CatalogItem.catalog_id == catalog_id))
    ids = [r.item_id for r in rows]
    vectors = (np.stack([np.frombuffer(r.embedding, dtype=np.float32) for r in rows])
               if rows else np.zeros((0, 1), dtype=np.float32))
    index = CatalogIndex(
        catalog_id=catalog_id, version=version or 0, ids=ids,
        position={item_id: i for i, item_id in enumerate(ids)}, vectors=vectors,
        titles=[r.title for r in rows], categories=[(r.category or "").lower() for r in rows],
        prices=np.array([np.nan if r.price is None else r.price for r in rows]),
        in_stock=np.array([bool(r.in_stock) for r in rows]),
        popularity=np.array([r.popularity for r in rows], dtype=np.float64),
        not_yet_embedded=(total or 0) - len(ids),
        groups=group_listings([r.title for r in rows], [r.brand for r in rows]),
    )
    if len(ids) >= ann_min_items:
        index.ann = _build_ann(vectors)
    return index


class IndexCache:
    """One index per catalog, rebuilt when its version moves on (item or embedding changes)."""

    def __init__(self) -> None:
        self._indexes: dict[uuid.UUID, tuple[int, CatalogIndex]] = {}
        self._lock = threading.Lock()

    def get(self, db: Database, catalog_id: uuid.UUID, key: int,
            ann_min_items: int) -> CatalogIndex:
        with self._lock:
            cached = self._indexes.get(catalog_id)
            if cached is None or cached[0] != key:
                cached = (key, load_index(db, catalog_id, ann_min_items))
                self._indexes[catalog_id] = cached
            return cached[1]
