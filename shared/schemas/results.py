"""What each job type's `result` holds once the job has succeeded (documented in OpenAPI).

The worker builds results as plain JSON; these models describe them, and the test stack
checks every result a test produces against its type's model, so the two cannot drift.
Audit trails (generations, facts, checks) are typed loosely: their detail may grow.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ResultModel(BaseModel):
    """A result's own fields are all listed: a new field must be documented here too."""

    model_config = ConfigDict(extra="forbid")


Audit = dict[str, Any]


# user_profile


class SpendShare(ResultModel):
    key: str
    share: float
    source: Literal["category", "interest_tag", "rest"]


class BehaviourFeatures(ResultModel):
    recency_days: float | None = Field(description="Days since the last order.")
    frequency: int = Field(description="Orders: purchase lines sharing an order_id or time.")
    monetary: float
    average_order_value: float | None
    mean_days_between_purchases: float | None
    median_days_between_purchases: float | None
    units_purchased: int
    distinct_items: int
    event_counts: dict[str, int]
    first_seen: str
    last_seen: str
    tenure_days: float
    active_days: int
    median_unit_price: float | None
    price_band: Literal["budget", "mid", "premium", "luxury"] | None
    spend_share: list[SpendShare]


class Rfm(ResultModel):
    segment: Literal["champion", "loyal", "new", "promising", "at_risk", "about_to_sleep",
                     "hibernating", "prospect"]
    r_score: int | None = Field(ge=1, le=5)
    f_score: int | None = Field(ge=1, le=5)
    m_score: int | None = Field(ge=1, le=5)


class InterestTag(ResultModel):
    tag: str
    score: float
    evidence: list[str]


class UserProfileResult(ResultModel):
    as_of: str
    currency: str | None
    events_used: int
    events_ignored_after_as_of: int
    features: BehaviourFeatures
    rfm: Rfm
    interest_tags: list[InterestTag]
    taxonomy: Literal["default", "custom"]


# recommendation


class ReasonEvidence(ResultModel):
    history_item: str | None = Field(
        description="The history item the reason names: its item id, or its title when it "
                    "was free text.")
    shoppers: int | None = Field(
        description="Shoppers who had both this item and history_item within three steps. "
                    "`bought_together` is only claimed from 3 shoppers up.")
    similarity: float | None = Field(
        description="Cosine similarity of this item's text and history_item's.")
    model_score: float | None = Field(
        description="The sequential model's score for this item (z-scored over the "
                    "catalog); null when the catalog has no trained model.")
    events: int | None = Field(None, description="Popular items: events recorded for it.")


class RecommendedItem(ResultModel):
    id: str
    score: float
    reason: Literal["similar_to_history", "bought_together", "sequence_model", "popular"]
    reason_text: str
    evidence: ReasonEvidence
    title: str


class RecommendationResult(ResultModel):
    items: list[RecommendedItem]
    strategy: Literal["personalised", "popular"]
    catalog_items: int
    catalog_version: int
    search: Literal["exact", "hnsw"]
    # Catalog items still waiting for their embedding (a large upload embeds in chunks):
    # they were not ranked this time.
    # Catalog items still waiting for their embedding (a large upload embeds in chunks):
    # they were not ranked this time.
    not_yet_embedded: int = 0
    model_version: int | None = Field(
        description="The catalog's sequential model that scored the items (its "
                    "train_recommender version); null without one (or with inline candidates).")


# personalised_recommendations


class PitchPart(ResultModel):
    text: str
    source: Literal["model", "template"]
    unit: str = Field(description="`because` (the link to the shopper's history), `opening` "
                      "or `fact:N` (about the item).")
    support: float | None = None


class HistoryLink(ResultModel):
    item_id: str
    name: str
    event: Literal["purchase", "cart", "view"]
    similarity: float


class PersonalisedItem(ResultModel):
    id: str
    rank: int
    score: float
    reason: str = Field(description="The recommender's reason (see `recommendation`).")
    reason_text: str
    title: str
    pitch: str
    subject: str | None = Field(None, description="E-mail subject line (channel `email`).")
    because: HistoryLink | None = Field(
        None, description="The item from the shopper's own history the pitch names.")
    interest: str | None = Field(None, description="The interest tag the pitch names, when "
                                 "no history item is close enough to name.")
    pitch_sources: list[PitchPart]
    model_share: float
    checks: dict[str, Audit]


class ShopperSummary(ResultModel):
    segment: str
    top_tags: list[str]
    rfm: Audit


class PersonalisedRecommendationsResult(ResultModel):
    items: list[PersonalisedItem]
    channel: Literal["email", "onsite", "push", "social"]
    limits: dict[str, int]
    shopper: ShopperSummary
    strategy: Literal["personalised", "popular"]
    catalog_version: int
    model_share: float = Field(description="Share of the pitches' words the model wrote.")
    timings: Audit
    decoding: Audit
    generations: list[Audit]



class Ranking(ResultModel):
    hit_at_10: float
    ndcg_at_10: float


class Refit(ResultModel):
    epochs: int
    seconds: float
    interactions: int


class TrainRecommenderResult(ResultModel):
    version: int = Field(description="The model's version; recommendation jobs name it.")
    catalog_version: int
    items: int
    shoppers: int
    training_interactions: int
    validation_shoppers: int = Field(description="Shoppers whose last item was held out.")
    epochs: int
    steps: int
    best_epoch: int
    stopped: Literal["converged", "time_budget", "max_epochs"]
    training_seconds: float
    validation: dict[str, Ranking] = Field(
        description="On the held-out last items: `model`, `text`, `cooccurrence`, `blend` "
                    "(today's text + co-occurrence) and `model_blend` (the chosen weights).")
    blend: dict[str, float] = Field(description="Weights of text, cooccurrence and model.")
    refit: Refit | None = Field(
        description="The stored model, trained again on every event (the held-out items "
                    "too) for `best_epoch` epochs; null when that did not fit in the time "
                    "budget and the validated model is stored. `validation` describes the "
                    "validated model.")


# generation: every copy result carries its provenance and audit trail


class Sentence(ResultModel):
    text: str
    source: Literal["model", "template"]
    unit: str
    support: float | None = None


class CopyResult(ResultModel):
    word_count: int
    sentences: list[Sentence]
    model_share: float = Field(description="Share of the words the model wrote.")
    checks: dict[str, Audit]
    facts: Audit = Field(description="The fact sheet the text was checked against.")
    prompt: Audit
    decoding: Audit
    generations: list[Audit] = Field(description="Every candidate and each sentence's verdict.")
    timings: dict[str, float] = Field(
        description="batch_wait_s: how long its prompts waited for a batch slot; "
                    "generation_s: how long they were being generated.")
    redactions: dict[str, int]


class ProductDescriptionResult(CopyResult):
    text: str


class SeoMetadataResult(ResultModel):
    meta_title: str = Field(max_length=60)
    meta_description: str = Field(max_length=160)
    keywords: list[str] = Field(max_length=10)
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    image_alt: str = Field(max_length=125)
    sources: dict[str, Literal["model", "template"]]
    source: Literal["model", "template"]
    model_share: float
    raw: list[str] = Field(description="The model's output, as written.")
    refused: list[Audit] = Field(description="What was refused, and why.")
    checks: dict[str, Audit]
    facts: Audit
    prompt: Audit
    decoding: Audit
    generations: list[Audit]
    timings: dict[str, float]
    redactions: dict[str, int]


class Scene(ResultModel):
    scene: int
    narration: str
    on_screen: str


class MarketingCopyResult(CopyResult):
    format: Literal["article", "video_script", "email", "social_post"]
    title: str
    text: str
    paragraphs: list[str] | None = Field(None, description="Articles only.")
    scenes: list[Scene] | None = Field(None, description="Video scripts only.")
    scene_source: Literal["composed"] | None = Field(None, description="Video scripts only.")
    hashtags: list[str] | None = Field(None, description="Social posts only.")


class SocialReplyResult(ResultModel):
    reply: str
    intent: Literal["question", "complaint", "praise", "abuse", "purchase_intent", "spam",
                    "other"]
    topic: str | None
    language: str
    sentiment: Literal["positive", "neutral", "negative"]
    scores: dict[str, float]
    escalate: bool
    escalation_reasons: list[str]
    answered: bool
    action: Literal["hide"] | None = Field(None, description="Spam: hide it, do not answer.")
    word_count: int
    sentences: list[Sentence]
    model_share: float
    checks: dict[str, Audit]
    facts: Audit
    prompt: Audit
    generations: list[Audit]
    timings: dict[str, float]
    redactions: dict[str, int]
