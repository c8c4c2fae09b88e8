"""Embedding a catalog's new or changed items one small chunk per task, on the embeddings queue.

A large upload is many short tasks instead of one long one: each chunk is at most
VITRINE_EMBED_CHUNK_ITEMS items and about VITRINE_EMBED_CHUNK_S seconds, its vectors are
stored (and usable by recommendations) as soon as it ends, and the next chunk is sent to the
tail of the queue, so other catalogs' chunks take turns with it. One chain of chunks works on
a catalog at a time: it holds a lease on the catalog row, so the messages of several uploads
do not embed the same items twice; a chain whose worker died lets its lease run out and the
sweeper's re-send starts a new one.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import or_, update

from shared.catalogs import pending_embedding, store_embedding
from shared.db import Database
from shared.models import Catalog, utcnow
from shared.schemas.catalogs import CatalogItemIn
from shared.settings import Settings
from worker.models.embeddings import Embedder

log = logging.getLogger("vitrine.catalog")

# At least one full encoder batch per chunk, however slow the machine: smaller batches
# cost more per item than the chunk's bookkeeping saves.
MIN_CHUNK = 32
# Until a chunk has measured the rate, a small probe: a first chunk of the full size could
# take far longer than VITRINE_EMBED_CHUNK_S on a slow or busy machine.
PROBE_CHUNK = 32
# A lease outlives several chunks, so only a chain whose worker died loses it.
LEASE_CHUNKS = 10
MIN_LEASE_S = 30.0


def item_text(row) -> str:
    return CatalogItemIn(id=row.item_id, title=row.title, brand=row.brand,
                         category=row.category, description=row.description).embedded_text()


@dataclass(frozen=True)
class Chunk:
    """What one task did: items embedded, and the lease to continue with (None: done or
    another chain holds the catalog)."""

    embedded: int
    continue_with: str | None


def _lease_seconds(settings: Settings) -> float:
    return max(MIN_LEASE_S, settings.embed_chunk_s * LEASE_CHUNKS)


def _take_lease(db: Database, catalog_id: uuid.UUID, lease: str | None,
                settings: Settings) -> str | None:
    """The lease this task works under: its chain's (renewed), or a new one if the catalog
    is free; None when another live chain holds it."""
    now = utcnow()
    token = lease or str(uuid.uuid4())
    conditions = [Catalog.embedding_lease.is_(None), Catalog.embedding_lease_until < now]
    if lease:
        conditions.append(Catalog.embedding_lease == lease)
    with db.session() as session:
        won = session.execute(
            update(Catalog).where(Catalog.id == catalog_id, or_(*conditions))
            .values(embedding_lease=token,
                    embedding_lease_until=now + timedelta(seconds=_lease_seconds(settings)))
            .execution_options(synchronize_session=False)).rowcount
    return token if won else None


def _release_lease(db: Database, catalog_id: uuid.UUID, lease: str) -> None:
    with db.session() as session:
        session.execute(update(Catalog).where(Catalog.id == catalog_id,
                                              Catalog.embedding_lease == lease)
                        .values(embedding_lease=None, embedding_lease_until=None)
                        .execution_options(synchronize_session=False))


def chunk_size(settings: Settings, rate: float | None) -> int:
    """Items for the next chunk: the most allowed, fewer when the measured rate says they
    would take longer than VITRINE_EMBED_CHUNK_S."""
    if not rate:
        return min(PROBE_CHUNK, settings.embed_chunk_items)
    return max(MIN_CHUNK, min(settings.embed_chunk_items, int(rate * settings.embed_chunk_s)))


def embed_chunk(db: Database, embedder: Embedder, settings: Settings, catalog_id: uuid.UUID,
                lease: str | None = None) -> Chunk:
    """Embed the next chunk of the catalog's pending items under the catalog's lease.

    Safe to run twice at once: each write is conditional on the text still being the one
    that was embedded, so a late duplicate never overwrites a newer embedding.
    """
    token = _take_lease(db, catalog_id, lease, settings)
    if token is None:
        log.info("event=catalog_chunk_skipped catalog=%s reason=another_chain", catalog_id)
        return Chunk(0, None)
    started = time.perf_counter()
    with db.session() as session:
        rate = session.get(Catalog, catalog_id).embedding_rate
        rows = [(r.item_id, r.content_hash, item_text(r))
                for r in pending_embedding(session, catalog_id, chunk_size(settings, rate))]
    if not rows:
        _release_lease(db, catalog_id, token)
        # An upload may have committed after the query and found the lease still held:
        # look once more now that it is released, or its items would wait for the sweeper.
        with db.session() as session:
            late = pending_embedding(session, catalog_id, 1)
        return Chunk(0, _take_lease(db, catalog_id, None, settings) if late else None)
    # Similar lengths in one padded batch: padding a short text to a long one costs ~3x.
    rows.sort(key=lambda row: len(row[2]))
    vectors = embedder.encode([text for _, _, text in rows]).astype(np.float32)
    seconds = time.perf_counter() - started
    with db.session() as session:
        for (item_id, digest, _), vector in zip(rows, vectors, strict=True):
            store_embedding(session, catalog_id, item_id, digest, vector.tobytes())
        # New embeddings change what recommendations see: workers' caches key on version.
        session.execute(update(Catalog).where(Catalog.id == catalog_id).values(
            version=Catalog.version + 1, embedding_rate=len(rows) / max(seconds, 1e-6)))
    log.info("event=catalog_chunk_embedded catalog=%s items=%d seconds=%.2f", catalog_id,
             len(rows), time.perf_counter() - started)
    return Chunk(len(rows), token)
