"""The `user_profile` handler: validated input in, features + segment + tags out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from shared.models import utcnow
from shared.schemas.user_profile import EventType, UserProfileInput
from worker.contract import JobContext, Outcome, parse_input
from worker.models.embeddings import Embedder
from worker.profiling.features import (
    DEFAULT_PRICE_BAND_EDGES,
    behaviour_features,
    spend_by_category,
)
from worker.profiling.interests import TaxonomyCache, event_text, interest_profile
from worker.profiling.segments import rfm

SPEND_SHARE_ENTRIES = 10


@dataclass(frozen=True)
class ProfilingModels:
    """What profile_user uses, prepared once per worker process by ProfilingFamily."""

    embedder: Embedder
    taxonomies: TaxonomyCache


def _spend_share(purchases, monetary: float, best_tag_by_text: dict[str, str]) -> list[dict]:
    """Share of spend per category; lines without a category count toward their best tag."""
    if monetary <= 0:
        return []
    spend = defaultdict(float)
    sources = {}
    for key, amount in spend_by_category(purchases).items():
        spend[key] += amount
        sources[key] = "category"
    for event in purchases:
        if not event.category:
            tag = best_tag_by_text.get(event_text(event), "other")
            spend[tag] += event.quantity * (event.price or 0.0)
            sources.setdefault(tag, "interest_tag")
    ranked = sorted(spend.items(), key=lambda kv: -kv[1])
    shares = [{"key": k, "share": round(v / monetary, 4), "source": sources[k]}
              for k, v in ranked[:SPEND_SHARE_ENTRIES]]
    rest = sum(v for _, v in ranked[SPEND_SHARE_ENTRIES:])
    if rest > 0:
        shares.append({"key": "other", "share": round(rest / monetary, 4), "source": "rest"})
    return shares


def profile_user(
    job_input: dict[str, Any], models: ProfilingModels, context: JobContext
) -> Outcome:
    request = parse_input(UserProfileInput, job_input)
    embedder = models.embedder
    as_of = request.as_of or utcnow()
    events = [e for e in request.events if e.timestamp <= as_of]
    features = behaviour_features(
        events, as_of, request.price_band_edges or DEFAULT_PRICE_BAND_EDGES
    )
    custom = tuple((t.name, t.description) for t in request.taxonomy) if request.taxonomy else None
    taxonomy = models.taxonomies.get(custom)
    interests = interest_profile(events, as_of, taxonomy, embedder, request.top_tags)
    purchases = [e for e in events if e.type is EventType.PURCHASE]
    features["spend_share"] = _spend_share(
        purchases, features["monetary"], interests.best_tag_by_text
    )
    result = {
        "as_of": as_of.isoformat().replace("+00:00", "Z"),
        "currency": request.currency,
        "events_used": len(events),
        "events_ignored_after_as_of": len(request.events) - len(events),
        "features": features,
        "rfm": rfm(features),
        "interest_tags": interests.tags,
        "taxonomy": "custom" if custom else "default",
    }
    return Outcome(result=result, model_name=embedder.source.name,
                   model_revision=embedder.source.revision)
