"""Step one of `personalised_recommendations`: rank, profile, and pick what to connect to.

It runs the `recommendation` and `user_profile` code on the shopper's events, then, for each
recommended item, finds the item of the shopper's own history it is closest to (by text
embedding, weighted by what the shopper did with it), which the pitch may name. It hands
the writing step everything it needs (the items' facts too), so that step reads nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from shared.catalogs import find_catalog
from shared.models import CatalogItem, utcnow
from shared.schemas.personalised import PersonalisedRecommendationsInput
from shared.schemas.user_profile import EventType
from worker.contract import InvalidJobInput, JobContext, Outcome, parse_input
from worker.generation.facts import short_name
from worker.profiling.handler import ProfilingModels, profile_user
from worker.recommendation.handler import RecommendationModels, recommend

# How much each kind of event counts when choosing what a pitch connects to: a purchase is
# the strongest statement of taste, a view the weakest.
LINK_WEIGHTS = {EventType.PURCHASE: 1.0, EventType.CART: 0.85, EventType.VIEW: 0.7}
# Below this cosine similarity "because you bought X" would be a stretch: the pitch names an
# interest tag instead (or nothing). Measured on Office shoppers (all-MiniLM-L6-v2): a
# shopper's next item is >= 0.5 from their closest earlier item in ~55 % of cases, a random
# item in ~30 %; at 0.35-0.45 links read like "a gel pen, because you bought a binder".
MIN_LINK_SIMILARITY = 0.5
MAX_RANKING_HISTORY = 500  # what the recommendation input takes
# Ranked items asked for per item wanted: room to drop listings of one name (_one_per_name).
OVERFETCH = 3
TOP_TAGS = 5
ITEM_TEXT_LIMITS = {"title": 300, "brand": 100, "category": 300, "description": 5000}


@dataclass(frozen=True)
class RankingModels:
    recommendation: RecommendationModels
    profiling: ProfilingModels


def _catalog_items(context: JobContext, catalog_id, ids: set[str]) -> dict[str, CatalogItem]:
    found: dict[str, CatalogItem] = {}
    wanted = sorted(ids)
    with context.db.session() as session:
        for start in range(0, len(wanted), 500):
            rows = session.scalars(select(CatalogItem).where(
                CatalogItem.catalog_id == catalog_id,
                CatalogItem.item_id.in_(wanted[start:start + 500]))).all()
            for row in rows:
                session.expunge(row)
                found[row.item_id] = row
    return found


def product_facts(item: CatalogItem) -> dict[str, Any]:
    """A catalog item as a generation `product` (the facts its pitch may use)."""
    product = {name: (getattr(item, name) or "")[:limit] or None
               for name, limit in ITEM_TEXT_LIMITS.items()}
    product["price"], product["currency"] = item.price, item.currency
    return {k: v for k, v in product.items() if v is not None}


def _profile(request: PersonalisedRecommendationsInput, events, known: dict[str, CatalogItem],
             models: RankingModels, context: JobContext) -> dict[str, Any]:
    """The shopper's segment and interest tags; events that name a catalog item by id only
    get its title and category, so their interests can be read."""
    enriched = []
    for event in events:
        item = known.get(event.item_id or "")
        if item is not None:
            event = event.model_copy(update={"title": event.title or item.title[:500],
                                             "category": event.category or item.category})
        enriched.append(event.model_dump(mode="json", exclude_none=True))
    profile_input = {"events": enriched, "top_tags": TOP_TAGS}
    if request.as_of:
        profile_input["as_of"] = request.as_of.isoformat()
    if request.currency:
        profile_input["currency"] = request.currency
    result = profile_user(profile_input, models.profiling, context).result or {}
    return {"segment": result["rfm"]["segment"], "rfm": result["rfm"],
            "top_tags": [t["tag"] for t in result["interest_tags"]]}


def _one_per_name(items: list[dict]) -> list[dict]:
    """The ranking with listings that copy would call by one name (sizes and colours of one
    binder) kept once, best first: four cards saying the same pitch are one recommendation."""
    kept: list[dict] = []
    for item in items:
        if not any(_same_name(item["title"], other["title"]) for other in kept):
            kept.append(item)
    return kept


def _same_name(a: str, b: str) -> bool:
    """Two listings a pitch would call the same ("Because you bought the AT&T 210 Corded
    Phone: meet the AT&T 210 Corded Phone")."""
    a, b = short_name(a).lower(), short_name(b).lower()
    return a in b or b in a


def _links(item_ids: list[str], history: list, index) -> dict[str, dict[str, Any]]:
    """For each recommended item, the history item its pitch may name (or none): the
    closest by text, weighted by event, that the pitch would not call by the item's own
    name."""
    candidates = [(event, index.position[event.item_id]) for event in history
                  if event.type in LINK_WEIGHTS and event.item_id in index.position]
    if not candidates:
        return {}
    history_vectors = np.stack([index.vectors[p] for _, p in candidates])
    weights = np.array([LINK_WEIGHTS[e.type] for e, _ in candidates])
    links = {}
    for item_id in item_ids:
        position = index.position.get(item_id)
        if position is None:
            continue
        similarity = history_vectors @ index.vectors[position]
        weighted = similarity * weights
        for best in np.argsort(-weighted):
            if similarity[best] < MIN_LINK_SIMILARITY:
                break
            title = index.titles[candidates[best][1]]
            if _same_name(title, index.titles[position]):
                continue
            event = candidates[best][0]
            links[item_id] = {"item_id": event.item_id, "event": event.type.value,
                              "title": title, "similarity": round(float(similarity[best]), 3)}
            break
    return links


def _interests(items: list[dict], facts: dict[str, CatalogItem], top_tags: list[str],
               models: RankingModels) -> dict[str, str]:
    """For each recommended item, the shopper's interest tag it belongs to (its own best tag
    in the default taxonomy, when that is one of the shopper's top tags): a pitch may say
    "for your interest in X" only about an item that is X."""
    rows = [facts[i["id"]] for i in items if i["id"] in facts]
    if not rows or not top_tags:
        return {}
    taxonomy = models.profiling.taxonomies.get(None)
    texts = [f"{row.title} ({row.category})" if row.category else row.title for row in rows]
    best = (models.profiling.embedder.encode(texts) @ taxonomy.vectors.T).argmax(axis=1)
    return {row.item_id: taxonomy.names[b] for row, b in zip(rows, best, strict=True)
            if taxonomy.names[b] in top_tags}


def _link_fields(link: dict[str, Any] | None, known: dict[str, CatalogItem]) -> dict[str, Any]:
    """The history item a pitch links to, with its short name and brand (the brand gives a
    shorter way to name it on short channels)."""
    if link is None:
        return {"link": None, "link_name": None, "link_brand": None}
    row = known.get(link["item_id"])
    brand = row.brand if row is not None and row.brand else None
    return {"link": link, "link_name": short_name(link["title"], brand), "link_brand": brand}


def rank_for_shopper(job_input: dict[str, Any], models: RankingModels,
                     context: JobContext) -> Outcome:
    started = time.perf_counter()
    request = parse_input(PersonalisedRecommendationsInput, job_input)
    context.report_progress({"state": "ranking"}, force=True)
    with context.db.session() as session:
        catalog = find_catalog(session, context.tenant_id, request.catalog_id)
        if catalog is None:
            raise InvalidJobInput(f"catalog {request.catalog_id!r} no longer exists")
        catalog_id, catalog_version = catalog.id, catalog.version
    as_of = request.as_of or utcnow()
    events = sorted((e for e in request.events if e.timestamp <= as_of),
                    key=lambda e: e.timestamp)
    if not events:
        raise InvalidJobInput("every event is after `as_of`: there is no history to use")
    known = _catalog_items(context, catalog_id, {e.item_id for e in events if e.item_id})
    shopper = _profile(request, events, known, models, context)

    history = [e for e in events if e.type is not EventType.SEARCH
               and (e.item_id in known or (e.title and not e.item_id))][-MAX_RANKING_HISTORY:]
    ranked = recommend({
        "catalog_id": request.catalog_id, "k": request.k * OVERFETCH, "exclude_seen": True,
        "filters": request.filters.model_dump(mode="json"), "diversity": request.diversity,
        "history": [{"item_id": e.item_id, "event": e.type.value} if e.item_id
                    else {"title": e.title, "event": e.type.value} for e in history],
    }, models.recommendation, context).result or {}
    items = _one_per_name(ranked.get("items", []))[:request.k]
    index = models.recommendation.indexes.get(context.db, catalog_id, catalog_version,
                                              context.settings.ann_min_items)
    links = _links([i["id"] for i in items], history, index)
    facts = _catalog_items(context, catalog_id, {i["id"] for i in items})
    interests = _interests(items, facts, shopper["top_tags"], models)
    handed = [{**item, "rank": rank, "product": product_facts(facts[item["id"]]),
               **_link_fields(links.get(item["id"]), known),
               "interest": interests.get(item["id"])}
              for rank, item in enumerate(items, start=1) if item["id"] in facts]
    state = {"items": handed, "shopper": shopper, "strategy": ranked.get("strategy", "popular"),
             "catalog_version": ranked.get("catalog_version", catalog_version),
             "rank_s": round(time.perf_counter() - started, 3),
             "handed_off_at": time.time()}
    return Outcome(result=None, next_step="write", step_state=state,
                   model_name=models.recommendation.embedder.source.name,
                   model_revision=models.recommendation.embedder.source.revision)
