"""Input of the `user_profile` job: a shopper's events, an optional as-of date and taxonomy."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from shared.models import utcnow
from shared.schemas.base import StrictModel, Timestamp

MAX_EVENTS = 20_000


class EventType(StrEnum):
    VIEW = "view"
    CART = "cart"
    PURCHASE = "purchase"
    SEARCH = "search"


class ShopperEvent(StrictModel):
    type: EventType
    timestamp: Timestamp
    item_id: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=500)
    category: str | None = Field(None, max_length=300)
    price: float | None = Field(None, ge=0, le=1e9, description="Unit price.")
    quantity: int = Field(1, ge=1, le=1_000_000)
    order_id: str | None = Field(
        None, max_length=200,
        description="Purchases with the same order_id are one order; without it, purchases "
        "with the same timestamp are.",
    )
    query: str | None = Field(None, max_length=500, description="Search text (search events).")

    @model_validator(mode="after")
    def _fields_for_type(self) -> ShopperEvent:
        if self.type is EventType.SEARCH:
            if not (self.query or self.title):
                raise ValueError("a search event needs `query`")
        elif not (self.item_id or self.title):
            raise ValueError(f"a {self.type} event needs `item_id` or `title`")
        if self.type is EventType.PURCHASE and self.price is None:
            raise ValueError("a purchase event needs `price`")
        return self


class TaxonomyTag(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(
        None, max_length=500, description="Words that describe the tag; improves matching."
    )


class UserProfileInput(StrictModel):
    """A shopper's history to turn into behaviour features, an RFM segment and interest tags."""

    events: list[ShopperEvent] = Field(min_length=1, max_length=MAX_EVENTS)
    as_of: Timestamp | None = Field(
        None, description="Reference time for recency; default: now. Events after it are ignored."
    )
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217 label.")
    taxonomy: list[TaxonomyTag] | None = Field(
        None, min_length=2, max_length=500, description="Overrides the default tag taxonomy."
    )
    top_tags: int = Field(10, ge=1, le=50)
    price_band_edges: tuple[float, float, float] | None = Field(
        None, description="Unit-price edges between budget|mid|premium|luxury; default 5, 25, 100."
    )

    @field_validator("taxonomy")
    @classmethod
    def _unique_tag_names(cls, value: list[TaxonomyTag] | None) -> list[TaxonomyTag] | None:
        if value is not None:
            names = [tag.name.lower() for tag in value]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"taxonomy tag names must be unique; repeated: {duplicates}")
        return value

    @field_validator("price_band_edges")
    @classmethod
    def _ascending(cls, value: tuple[float, float, float] | None):
        if value is not None and not 0 < value[0] < value[1] < value[2]:
            raise ValueError("edges must be positive and strictly ascending")
        return value

    @model_validator(mode="after")
    def _some_events_before_as_of(self) -> UserProfileInput:
        # Without `as_of` the worker profiles as of its own "now", which is later than this
        # one: an event that is not in the future here is not in the future there either.
        reference, name = (self.as_of, "`as_of`") if self.as_of else (utcnow(), "now (no `as_of`)")
        if all(e.timestamp > reference for e in self.events):
            raise ValueError(f"every event is after {name}; nothing to profile")
        return self
