"""Each catalog's newest sequential model, loaded once per worker process and replaced when
a newer version lands.

The catalog row every recommendation job reads anyway carries `recommender_version`, so
noticing a new model costs nothing per job; loading it (a few MB from the database) happens
once per process and version.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

import numpy as np
import torch
from sqlalchemy import select

from shared.db import Database
from shared.models import Catalog
from shared.recommenders import model_version
from worker.recommendation.index import CatalogIndex, IndexCache
from worker.recommendation.ranker import Blend, HistoryEntry
from worker.recommendation.sequential import (
    SequenceScorer,
    SequentialConfig,
    SequentialRecommender,
)

log = logging.getLogger("vitrine.recommendation")


@dataclass(frozen=True)
class LoadedModel:
    version: int
    index_version: int
    scorer: SequenceScorer
    blend: Blend

    def scores(self, history: list[HistoryEntry]) -> np.ndarray:
        """The model's score for every index item after this history (oldest first)."""
        positions = [entry.position for entry in history]
        if None not in positions:  # catalog items only: one lookup
            return self.scorer.scores(self.scorer.table[positions])
        inputs = torch.stack([
            self.scorer.table[entry.position] if entry.position is not None
            else self.scorer.project(entry.vector[None])[0] for entry in history])
        return self.scorer.scores(inputs)


class SequentialCache:
    def __init__(self) -> None:
        self._loaded: dict[uuid.UUID, LoadedModel] = {}
        self._lock = threading.Lock()

    def get(self, db: Database, catalog_id: uuid.UUID, version: int,
            index: CatalogIndex) -> LoadedModel | None:
        """The catalog's model `version` aligned with `index`; None when it has none."""
        if version <= 0:
            return None
        with self._lock:
            loaded = self._loaded.get(catalog_id)
        if loaded and (loaded.version, loaded.index_version) == (version, index.version):
            return loaded
        with db.session() as session:
            row = model_version(session, catalog_id, version)
            if row is None:
                return None
            config, item_ids = SequentialConfig.stored(row.config), list(row.item_ids)
            weights, blend = row.weights, Blend(**row.blend)
        # The text buffer is only needed to train; scoring projects the index's own vectors.
        model = SequentialRecommender.from_bytes(
            config, np.zeros((len(item_ids), config.text_dim), dtype=np.float32), weights)
        rows = {item_id: n for n, item_id in enumerate(item_ids)}
        model_rows = np.array([rows.get(item_id, -1) for item_id in index.ids], dtype=np.int64)
        loaded = LoadedModel(version, index.version,
                             SequenceScorer(model, model_rows, index.vectors), blend)
        with self._lock:
            self._loaded[catalog_id] = loaded
        log.info("event=recommender_loaded catalog=%s version=%d items=%d new_items=%d",
                 catalog_id, version, len(index), int((model_rows < 0).sum()))
        return loaded

    def preload(self, db: Database, indexes: IndexCache, ann_min_items: int) -> int:
        """At worker start: every catalog's newest model (and its index); returns how many."""
        with db.session() as session:
            catalogs = session.execute(select(Catalog.id, Catalog.version,
                                              Catalog.recommender_version)
                                       .where(Catalog.recommender_version > 0)).all()
        for catalog_id, version, recommender_version in catalogs:
            index = indexes.get(db, catalog_id, version, ann_min_items)
            self.get(db, catalog_id, recommender_version, index)
        return len(catalogs)
