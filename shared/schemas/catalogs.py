"""Catalog items, shopper events, and the `recommendation` job's input."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from shared.schemas.base import StrictModel, Timestamp

CATALOG_NAME = r"^[A-Za-z0-9._-]{1,100}$"
MAX_EVENTS_PER_REQUEST = 10_000


class CatalogItemIn(StrictModel):
    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=500)
    brand: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=5000)
    price: float | None = Field(None, ge=0, le=1e9)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    in_stock: bool = True
    popularity: float = Field(0.0, ge=0, le=1e12)

    def embedded_text(self) -> str:
        """The text embedded for this item; a change to it is what makes re-embedding due."""
        parts = [self.title, self.brand, self.category, (self.description or "")[:300]]
        return " | ".join(p for p in parts if p)


class ItemsUpsert(StrictModel):
    items: list[CatalogItemIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ItemsUpsert:
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise ValueError(f"item ids must be unique within a request; repeated: {repeated}")
        return self


class InteractionType(StrEnum):
    VIEW = "view"
    CART = "cart"
    PURCHASE = "purchase"


class ShopperInteraction(StrictModel):
    shopper_id: str = Field(min_length=1, max_length=200)
    item_id: str = Field(min_length=1, max_length=200)
    type: InteractionType = InteractionType.PURCHASE
    timestamp: Timestamp | None = None


class EventsIn(StrictModel):
    """Shopper sequences for a catalog: the interactions co-occurrence is learned from."""

    events: list[ShopperInteraction] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


class HistoryItem(StrictModel):
    item_id: str | None = Field(None, max_length=200, description="A catalog item id, or ...")
    title: str | None = Field(None, max_length=500, description="... a free-text item.")
    event: InteractionType = InteractionType.VIEW
    timestamp: Timestamp | None = None

    @model_validator(mode="after")
    def _item_or_title(self) -> HistoryItem:
        if not (self.item_id or self.title):
            raise ValueError("a history item needs `item_id` or `title`")
        return self


class CandidateItem(CatalogItemIn):
    """An inline candidate, when no catalog is used."""


class Filters(StrictModel):
    category: str | None = Field(None, max_length=200, description="Substring, any case.")
    min_price: float | None = Field(None, ge=0, le=1e9)
    max_price: float | None = Field(None, ge=0, le=1e9)
    in_stock: bool | None = None

    @model_validator(mode="after")
    def _price_range(self) -> Filters:
        if self.min_price is not None and self.max_price is not None:
            if self.min_price > self.max_price:
                raise ValueError("min_price is greater than max_price")
        return self


class RecommendationInput(StrictModel):
    catalog_id: str | None = Field(None, pattern=CATALOG_NAME)
    candidates: list[CandidateItem] | None = Field(None, min_length=1, max_length=2000)
    history: list[HistoryItem] = Field(default_factory=list, max_length=500)
    k: int = Field(10, ge=1, le=100)
    filters: Filters = Field(default_factory=Filters)
    exclude_seen: bool = True
    diversity: float = Field(0.0, ge=0, le=1, description="0: pure relevance; 1: most varied.")

    @model_validator(mode="after")
    def _one_source(self) -> RecommendationInput:
        if (self.catalog_id is None) == (self.candidates is None):
            raise ValueError("give exactly one of `catalog_id` or `candidates`")
        return self


class TrainRecommenderInput(StrictModel):
    """A `train_recommender` job: what to train on and how long it may take."""

    catalog_id: str = Field(pattern=CATALOG_NAME)
    time_budget_s: float = Field(600, ge=1, le=3300, description=(
        "Training stops after the step that passes this; validation and storing follow."))
    max_epochs: int = Field(200, ge=1, le=1000)
    patience: int = Field(4, ge=1, le=1000, description=(
        "Epochs without a better validation NDCG@10 before training stops early."))
    dim: int = Field(128, ge=8, le=256, description="Width of the transformer.")
    layers: int = Field(2, ge=1, le=4)
    max_len: int = Field(50, ge=2, le=200, description="Most recent items the model reads.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
