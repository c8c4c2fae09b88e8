"""Input of the `personalised_recommendations` job: a shopper's events, a catalog, a channel.

One job ranks the catalog for the shopper (cpu), then writes a short pitch per item that is
true to the item and connects to what the shopper did (gpu); see worker/personalised/.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.schemas.base import StrictModel, Timestamp
from shared.schemas.catalogs import CATALOG_NAME, Filters
from shared.schemas.user_profile import ShopperEvent

MAX_HISTORY_EVENTS = 2_000


class Channel(StrEnum):
    EMAIL = "email"
    ONSITE = "onsite"
    PUSH = "push"
    SOCIAL = "social"


# Characters a pitch may have on each channel: what fits a push notification, a product
# card, an e-mail block, a social post; an e-mail also gets a subject line of its own.
PITCH_LIMITS = {Channel.PUSH: 90, Channel.ONSITE: 160, Channel.EMAIL: 220, Channel.SOCIAL: 280}
EMAIL_SUBJECT_LIMIT = 60
# The languages whose connecting phrases ("Because you bought ...") are written here.
PitchLanguage = Literal["en", "de", "fr", "es", "it", "nl", "pt"]


class PersonalisedRecommendationsInput(StrictModel):
    """A shopper's history in, k recommended items out, each with a short, true pitch."""

    catalog_id: str = Field(pattern=CATALOG_NAME)
    events: list[ShopperEvent] = Field(
        min_length=1, max_length=MAX_HISTORY_EVENTS,
        description="The shopper's events, as for `user_profile`; `item_id`s must be items "
        "of the catalog (a pitch names only items from here).")
    as_of: Timestamp | None = Field(
        None, description="Reference time for recency; default: now. Events after it are ignored.")
    k: int = Field(5, ge=1, le=10)
    channel: Channel = Field(
        Channel.ONSITE,
        description="Pitch length limit: push 90, onsite 160, email 220 (plus a subject of at "
        "most 60), social 280 characters.")
    tone: str = Field("friendly", min_length=1, max_length=60,
                      description="friendly, professional, luxury, playful, or free text")
    language: PitchLanguage = "en"
    filters: Filters = Field(default_factory=Filters)
    diversity: float = Field(0.0, ge=0, le=1, description="0: pure relevance; 1: most varied.")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    seed: int | None = Field(None, ge=0, le=2**31 - 1,
                             description="Same seed and input give the same pitches.")
