"""Embedding a catalog's new or changed items, in batches, on the cpu queue."""

from __future__ import annotations

import logging
import time
import uuid

import numpy as np
from sqlalchemy import update

from shared.catalogs import pending_embedding, store_embedding
from shared.db import Database
from shared.models import Catalog
from shared.schemas.catalogs import CatalogItemIn
from worker.models.embeddings import Embedder

log = logging.getLogger("vitrine.catalog")

BATCH = 256


def item_text(row) -> str:
    return CatalogItemIn(id=row.item_id, title=row.title, brand=row.brand,
                         category=row.category, description=row.description).embedded_text()


def embed_pending(db: Database, embedder: Embedder, catalog_id: uuid.UUID) -> int:
    """Embed every item whose text changed since it was last embedded; returns how many.

    Safe to run twice at once: each write is conditional on the text still being the one
    that was embedded, so a late duplicate never overwrites a newer embedding.
    """
    done, started = 0, time.perf_counter()
    while True:
        with db.session() as session:
            rows = [(r.item_id, r.content_hash, item_text(r))
                    for r in pending_embedding(session, catalog_id, BATCH)]
        if not rows:
            break
        # Similar lengths in one padded batch: padding a short text to a long one costs ~3x.
        rows.sort(key=lambda row: len(row[2]))
        vectors = embedder.encode([text for _, _, text in rows]).astype(np.float32)
        with db.session() as session:
            for (item_id, digest, _), vector in zip(rows, vectors, strict=True):
                store_embedding(session, catalog_id, item_id, digest, vector.tobytes())
            # New embeddings change what recommendations see: workers' caches key on version.
            session.execute(update(Catalog).where(Catalog.id == catalog_id)
                            .values(version=Catalog.version + 1))
        done += len(rows)
    log.info("event=catalog_embedded catalog=%s items=%d seconds=%.2f", catalog_id, done,
             time.perf_counter() - started)
    return done
