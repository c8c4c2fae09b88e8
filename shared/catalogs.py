"""Catalog storage both sides use: upserts that know what must be re-embedded, events, lookups."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.models import Catalog, CatalogEvent, CatalogItem, utcnow
from shared.schemas.catalogs import (
    CatalogItemIn,
    RecommendationInput,
    ShopperInteraction,
    TrainRecommenderInput,
)
from shared.schemas.personalised import PersonalisedRecommendationsInput

LOOKUP_CHUNK = 500


class InputProblem(Exception):
    """A request that names things that do not exist: the API turns it into a 4xx."""

    def __init__(self, status: int, message: str, details: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def content_hash(item: CatalogItemIn) -> str:
    return hashlib.sha256(item.embedded_text().encode()).hexdigest()


def find_catalog(session: Session, tenant_id: uuid.UUID, name: str) -> Catalog | None:
    return session.scalar(select(Catalog).where(Catalog.tenant_id == tenant_id,
                                                Catalog.name == name))


def get_or_create_catalog(session: Session, tenant_id: uuid.UUID, name: str) -> Catalog:
    """The catalog, created if missing, and locked for the rest of the transaction.

    Two first uploads at once both insert: ON CONFLICT DO NOTHING lets the second find the
    first's row instead of failing on the unique name. The row lock (PostgreSQL; SQLite has
    one writer anyway) makes concurrent uploads to one catalog take turns, so they can neither
    deadlock on each other's items nor both insert the same new item.
    """
    catalog = find_catalog(session, tenant_id, name)
    if catalog is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(Catalog).values(
            id=uuid.uuid4(), tenant_id=tenant_id, name=name, version=0, events_version=0,
            created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["tenant_id", "name"]))
    return session.scalars(select(Catalog).where(
        Catalog.tenant_id == tenant_id, Catalog.name == name,
    ).with_for_update().execution_options(populate_existing=True)).one()


def _bump(session: Session, catalog: Catalog, counter: str) -> None:
    """counter + 1 computed by the database, so concurrent changes never both write N + 1."""
    setattr(catalog, counter, getattr(Catalog, counter) + 1)
    session.flush()  # the new value is read back on the next access


@dataclass
class UpsertReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    to_embed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _existing(session: Session, catalog: Catalog, ids: list[str]) -> dict[str, CatalogItem]:
    found = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start:start + LOOKUP_CHUNK]
        for row in session.scalars(select(CatalogItem).where(
                CatalogItem.catalog_id == catalog.id, CatalogItem.item_id.in_(chunk))):
            found[row.item_id] = row
    return found


_FIELDS = ("title", "brand", "category", "description", "price", "currency", "in_stock",
           "popularity")


def upsert_items(session: Session, catalog: Catalog, items: list[CatalogItemIn]) -> UpsertReport:
    """Insert or update items; only a change to the embedded text makes re-embedding due."""
    report = UpsertReport()
    existing = _existing(session, catalog, [item.id for item in items])
    now = utcnow()
    for item in items:
        digest = content_hash(item)
        values = {name: getattr(item, name) for name in _FIELDS}
        row = existing.get(item.id)
        if row is None:
            session.add(CatalogItem(catalog_id=catalog.id, item_id=item.id, content_hash=digest,
                                    embedded_hash=None, updated_at=now, **values))
            report.inserted += 1
            report.to_embed += 1
            continue
        if row.content_hash == digest and all(getattr(row, k) == v for k, v in values.items()):
            report.unchanged += 1
            continue
        for name, value in values.items():
            setattr(row, name, value)
        row.content_hash, row.updated_at = digest, now
        report.updated += 1
        report.to_embed += row.embedded_hash != digest
    if report.inserted or report.updated:
        _bump(session, catalog, "version")
    return report


def delete_item(session: Session, catalog: Catalog, item_id: str) -> bool:
    deleted = session.execute(delete(CatalogItem).where(
        CatalogItem.catalog_id == catalog.id, CatalogItem.item_id == item_id)).rowcount
    if deleted:
        _bump(session, catalog, "version")
    return bool(deleted)


def catalog_stats(session: Session, catalog: Catalog) -> dict:
    items = session.scalar(select(func.count()).where(CatalogItem.catalog_id == catalog.id))
    embedded = session.scalar(select(func.count()).where(
        CatalogItem.catalog_id == catalog.id,
        CatalogItem.embedded_hash == CatalogItem.content_hash))
    events = session.scalar(select(func.count()).where(CatalogEvent.catalog_id == catalog.id))
    return {"id": catalog.name, "items": items, "embedded": embedded, "events": events,
            "version": catalog.version, "events_version": catalog.events_version,
            "embedding": embedding_progress(catalog, items, embedded)}


def embedding_progress(catalog: Catalog, total: int, embedded: int) -> dict:
    """embedded/total and, while chunks are still coming, when the last one should end
    (from the items per second of the latest chunk)."""
    pending = total - embedded
    rate = catalog.embedding_rate
    eta = None
    if pending and rate:
        eta = (utcnow() + timedelta(seconds=pending / rate)).isoformat().replace("+00:00", "Z")
    return {"embedded": embedded, "total": total, "pending": pending,
            "done": pending == 0, "items_per_s": round(rate, 1) if rate else None,
            "estimated_done_at": eta}


def needs_embedding():
    """Items never embedded, or whose text changed since they were."""
    return (CatalogItem.embedded_hash.is_(None)) | (
        CatalogItem.embedded_hash != CatalogItem.content_hash)


def pending_embedding(session: Session, catalog_id: uuid.UUID, limit: int) -> list[CatalogItem]:
    """The next `limit` items to embed, shortest texts first: each chunk then holds texts of
    about one length, so the encoder pads little (as it does when it sorts a whole catalog
    itself; sorting within a chunk only left ~30 % of the throughput on padding)."""
    length = (func.length(CatalogItem.title)
              + func.coalesce(func.length(CatalogItem.description), 0))
    return list(session.scalars(select(CatalogItem).where(
        CatalogItem.catalog_id == catalog_id, needs_embedding())
        .order_by(length, CatalogItem.item_id).limit(limit)))


def store_embedding(session: Session, catalog_id: uuid.UUID, item_id: str, digest: str,
                    vector: bytes) -> None:
    """Only if the item still has the text that was embedded (it may have changed meanwhile)."""
    session.execute(update(CatalogItem).where(
        CatalogItem.catalog_id == catalog_id, CatalogItem.item_id == item_id,
        CatalogItem.content_hash == digest).values(embedded_hash=digest, embedding=vector))


def _unknown_items(session: Session, catalog: Catalog, ids: list[str]) -> set[str]:
    return set(ids) - set(_existing(session, catalog, sorted(set(ids))))


def record_events(session: Session, catalog: Catalog, events: list[ShopperInteraction]) -> int:
    """Store interactions; 422 for item ids the catalog does not have (nothing is stored)."""
    unknown = _unknown_items(session, catalog, [e.item_id for e in events])
    if unknown:
        details = [{"path": f"events[{i}].item_id", "problem": f"no item {e.item_id!r} in "
                    f"catalog {catalog.name!r}"} for i, e in enumerate(events)
                   if e.item_id in unknown][:20]
        raise InputProblem(422, f"{len(unknown)} unknown item ids", details)
    session.add_all(CatalogEvent(catalog_id=catalog.id, shopper_id=e.shopper_id,
                                 item_id=e.item_id, event=e.type.value, occurred_at=e.timestamp)
                    for e in events)
    _bump(session, catalog, "events_version")
    return len(events)


def _require_items(session: Session, tenant_id: uuid.UUID, catalog_name: str,
                   field: str, item_ids: list[str | None], message: str) -> None:
    """404 for a catalog the tenant does not have; 422 naming each `input.<field>[i].item_id`
    that is not one of its items (None: the entry names no catalog item)."""
    catalog = find_catalog(session, tenant_id, catalog_name)
    if catalog is None:
        raise InputProblem(404, f"no catalog {catalog_name!r}",
                           [{"path": "input.catalog_id", "problem": "no such catalog"}])
    unknown = _unknown_items(session, catalog, [i for i in item_ids if i])
    details = [{"path": f"input.{field}[{n}].item_id",
                "problem": f"no item {item_id!r} in catalog {catalog.name!r}"}
               for n, item_id in enumerate(item_ids) if item_id in unknown]
    if details:
        raise InputProblem(422, message, details[:20])


def check_personalised(session: Session, tenant_id: uuid.UUID,
                       request: PersonalisedRecommendationsInput) -> None:
    """The catalog and every event's item must be the tenant's (a pitch may name them)."""
    _require_items(session, tenant_id, request.catalog_id, "events",
                   [e.item_id for e in request.events], "events name unknown items")


def erase_shopper(session: Session, catalog: Catalog, shopper_id: str) -> int:
    """Delete every event of one shopper; the events version moves, so what workers derived
    from the events (co-occurrence) is rebuilt without them."""
    erased = session.execute(delete(CatalogEvent).where(
        CatalogEvent.catalog_id == catalog.id, CatalogEvent.shopper_id == shopper_id)).rowcount
    _bump(session, catalog, "events_version")
    return erased


def check_recommendation(session: Session, tenant_id: uuid.UUID,
                         request: RecommendationInput) -> None:
    """404 for a catalog the tenant does not have, 422 for history ids not in it."""
    if request.catalog_id is None:
        ids = {c.id for c in request.candidates or []}
        details = [{"path": f"input.history[{i}].item_id",
                    "problem": f"{h.item_id!r} is not among the candidates"}
                   for i, h in enumerate(request.history) if h.item_id and h.item_id not in ids]
        if details:
            raise InputProblem(422, "history names unknown items", details[:20])
        return
    _require_items(session, tenant_id, request.catalog_id, "history",
                   [h.item_id for h in request.history], "history names unknown items")


def check_training(session: Session, tenant_id: uuid.UUID,
                   request: TrainRecommenderInput) -> None:
    """404 for a catalog the tenant does not have."""
    if find_catalog(session, tenant_id, request.catalog_id) is None:
        raise InputProblem(404, f"no catalog {request.catalog_id!r}",
                           [{"path": "input.catalog_id", "problem": "no such catalog"}])
