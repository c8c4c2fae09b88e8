"""/v1/catalogs: bulk item upserts (embedded on the cpu queue), deletes, stats, events."""

from __future__ import annotations

import re

from flask import Blueprint, g

from api import idempotency
from api.body import json_body, require_object
from api.errors import ApiError, validated
from api.openapi import documented, header
from api.services import get_celery, get_db, get_settings
from api.transactions import in_transaction
from shared import catalogs
from shared.dispatch import send_catalog_embedding
from shared.schemas.catalogs import CATALOG_NAME, EventsIn, ItemsUpsert

bp = Blueprint("catalogs", __name__, url_prefix="/catalogs")


def _check_name(catalog_id: str) -> None:
    if not re.fullmatch(CATALOG_NAME, catalog_id):
        raise ApiError(422, "validation_error", "catalog id is invalid",
                       [{"path": "path:catalog_id", "problem": "1-100 of A-Z a-z 0-9 . _ -"}])


@bp.put("/<catalog_id>/items")
@documented("Upsert items; changed texts are embedded on the cpu queue", status=202,
            answer="inserted, updated, unchanged, to_embed", body=ItemsUpsert)
def upsert_items(catalog_id: str):
    _check_name(catalog_id)
    body = require_object(json_body())
    limit = get_settings().catalog_max_items
    if isinstance(body.get("items"), list) and len(body["items"]) > limit:
        raise ApiError(422, "validation_error", f"at most {limit} items per request",
                       [{"path": "items", "problem": f"{len(body['items'])} items; split the "
                         f"upload into requests of at most {limit}"}])
    request = validated(ItemsUpsert, body, "request is invalid")

    def upsert(session):
        catalog = catalogs.get_or_create_catalog(session, g.tenant_id, catalog_id)
        report = catalogs.upsert_items(session, catalog, request.items)
        return catalog.id, catalog.version, report

    catalog_pk, version, report = in_transaction(upsert, retry_duplicates=True)
    if report.to_embed:  # not sent: the sweeper finds the items still waiting
        send_catalog_embedding(get_celery(), catalog_pk)
    return {"catalog": catalog_id, "version": version, **report.as_dict()}, 202


@bp.delete("/<catalog_id>/items/<item_id>")
@documented("Delete an item", status=204, answer="deleted", errors=[404])
def delete_item(catalog_id: str, item_id: str):
    def delete(session):
        if not catalogs.delete_item(session, _load(session, catalog_id), item_id):
            raise ApiError(404, "not_found", f"no item {item_id!r} in catalog {catalog_id!r}")

    in_transaction(delete)
    return "", 204


def _load(session, catalog_id: str):
    catalog = catalogs.find_catalog(session, g.tenant_id, catalog_id)
    if catalog is None:
        raise ApiError(404, "not_found", f"no catalog {catalog_id!r}")
    return catalog


@bp.get("/<catalog_id>")
@documented("Catalog counts and versions", answer="items, embedded, events, version",
            errors=[404])
def get_catalog(catalog_id: str):
    with get_db().session() as session:
        return catalogs.catalog_stats(session, _load(session, catalog_id))


@bp.post("/<catalog_id>/events")
@documented("Add shopper interactions (what co-occurrence is learned from)", status=202,
            answer="stored", body=EventsIn, errors=[404, 409],
            parameters=[header(idempotency.HEADER, {"type": "string",
                                                    "maxLength": idempotency.MAX_KEY})])
def add_events(catalog_id: str):
    """With an Idempotency-Key, a retried request stores nothing twice and gets the first
    answer again."""
    body = require_object(json_body())
    request = validated(EventsIn, body, "request is invalid")

    def record(session):
        catalog = _load(session, catalog_id)
        stored = catalogs.record_events(session, catalog, request.events)
        return {"catalog": catalog_id, "stored": stored,
                "events_version": catalog.events_version}, 202

    try:
        return idempotency.once(f"catalog_events:{catalog_id}", body, record)
    except catalogs.InputProblem as problem:
        raise ApiError(problem.status, "validation_error", problem.message,
                       problem.details) from None


@bp.delete("/<catalog_id>/shoppers/<shopper_id>")
@documented("Erase one shopper's events from a catalog", answer="events_erased, "
            "events_version", errors=[404])
def erase_shopper(catalog_id: str, shopper_id: str):
    """Every interaction of the shopper goes; recommendations learn without them from the
    next job on. Erasing a shopper with no events is not an error (erasure is idempotent)."""
    def erase(session):
        catalog = _load(session, catalog_id)
        return catalogs.erase_shopper(session, catalog, shopper_id), catalog.events_version

    erased, events_version = in_transaction(erase)
    return {"catalog": catalog_id, "shopper_id": shopper_id, "events_erased": erased,
            "events_version": events_version}
