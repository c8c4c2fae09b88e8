"""The `recommendation` job: a catalog (or inline candidates), a history, ranked items."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared.catalogs import find_catalog
from shared.schemas.catalogs import RecommendationInput
from worker.contract import InvalidJobInput, JobContext, Outcome, parse_input
from worker.models.embeddings import Embedder
from worker.models.encode_batching import SharedEncoder
from worker.recommendation.cooccurrence import Cooccurrence, CooccurrenceCache
from worker.recommendation.index import CatalogIndex, IndexCache
from worker.recommendation.ranker import TODAY, HistoryEntry, allowed, popular, rank
from worker.recommendation.sequential_cache import LoadedModel, SequentialCache
from worker.recommendation.twins import group_listings


@dataclass(frozen=True)
class RecommendationModels:
    """What recommend uses, one per worker process (RecommendationFamily): the embedding
    model, the encoder concurrent jobs share, and the catalogs' matrices and co-occurrence,
    cached by version."""

    embedder: Embedder
    encoder: SharedEncoder
    indexes: IndexCache
    cooccurrence: CooccurrenceCache
    sequential: SequentialCache


def _inline_index(request: RecommendationInput, models: RecommendationModels) -> CatalogIndex:
    import numpy as np

    items = request.candidates or []
    vectors = models.encoder.encode([item.embedded_text() for item in items])
    return CatalogIndex(
        catalog_id=uuid.UUID(int=0), version=0, ids=[i.id for i in items],
        position={item.id: n for n, item in enumerate(items)}, vectors=vectors,
        titles=[i.title for i in items], categories=[(i.category or "").lower() for i in items],
        prices=np.array([np.nan if i.price is None else i.price for i in items]),
        in_stock=np.array([i.in_stock for i in items]),
        popularity=np.array([i.popularity for i in items], dtype=np.float64),
        groups=group_listings([i.title for i in items], [i.brand for i in items]),
    )


def _history(request: RecommendationInput, index: CatalogIndex,
             models: RecommendationModels) -> list[HistoryEntry]:
    ordered = list(request.history)
    if ordered and all(h.timestamp for h in ordered):
        ordered.sort(key=lambda h: h.timestamp)
    entries, to_encode = [], []
    for item in ordered:
        position = index.position.get(item.item_id) if item.item_id else None
        title = index.titles[position] if position is not None else (item.title or item.item_id)
        entry = HistoryEntry(title=title, event=item.event.value, position=position,
                             vector=index.vectors[position] if position is not None else None,
                             item_id=item.item_id if position is not None else None)
        if entry.vector is None:
            to_encode.append(entry)
        entries.append(entry)
    if to_encode:  # free-text items, or catalog items not embedded yet
        vectors = models.encoder.encode([e.title for e in to_encode])
        for entry, vector in zip(to_encode, vectors, strict=True):
            entry.vector = vector
    return entries


def recommend(job_input: dict[str, Any], models: RecommendationModels,
              context: JobContext) -> Outcome:
    request = parse_input(RecommendationInput, job_input)
    events: Cooccurrence | None = None
    trained: LoadedModel | None = None
    if request.catalog_id:
        with context.db.session() as session:
            catalog = find_catalog(session, context.tenant_id, request.catalog_id)
        if catalog is None:
            raise InvalidJobInput(f"catalog {request.catalog_id!r} no longer exists")
        index = models.indexes.get(context.db, catalog.id, catalog.version,
                                   context.settings.ann_min_items)
        events = models.cooccurrence.get(
            context.db, catalog.id, index.position, (catalog.events_version, catalog.version))
        trained = models.sequential.get(context.db, catalog.id, catalog.recommender_version,
                                        index)
    else:
        index = _inline_index(request, models)
    history = _history(request, index, models)
    if not history:
        items = popular(index, events.counts if events else None,
                        allowed(index, request.filters), request.k)
        strategy = "popular"
    else:
        items = rank(index, history, events.matrix if events else None,
                     filters=request.filters, k=request.k, exclude_seen=request.exclude_seen,
                     diversity=request.diversity, support=events.support if events else None,
                     model_scores=trained.scores(history) if trained else None,
                     blend=trained.blend if trained else TODAY)
        strategy = "personalised"
    source = models.embedder.source
    return Outcome(result={"items": items, "strategy": strategy, "catalog_items": len(index),
                           "catalog_version": index.version,
                           "search": "hnsw" if index.ann is not None else "exact",
                           "not_yet_embedded": index.not_yet_embedded,
                           "model_version": trained.version if trained else None},
                   model_name=source.name, model_revision=source.revision)
