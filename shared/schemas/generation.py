"""Inputs of the generation jobs: a shared `product`, shared `options`, four job types."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator

from shared.schemas.base import StrictModel

AttributeValue = str | int | float | bool


class Product(StrictModel):
    title: str = Field(min_length=1, max_length=300)
    brand: str | None = Field(None, max_length=100)
    description: str | None = Field(
        None, max_length=5000,
        description="The product's own description: the main source of facts the copy may use.")
    category: str | None = Field(None, max_length=300)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict, max_length=30)
    features: list[str] = Field(default_factory=list, max_length=20)
    price: float | None = Field(None, ge=0, le=1e9)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    sku: str | None = Field(None, max_length=100)

    @field_validator("features")
    @classmethod
    def _short_features(cls, value: list[str]) -> list[str]:
        for index, feature in enumerate(value):
            if not feature.strip() or len(feature) > 300:
                raise ValueError(f"feature {index} must be 1-300 characters")
        return [f.strip() for f in value]

    @field_validator("attributes")
    @classmethod
    def _short_attributes(cls, value: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
        for name, item in value.items():
            if not name.strip() or len(name) > 60 or len(str(item)) > 200:
                raise ValueError(f"attribute {name[:60]!r}: names 1-60, values up to 200 chars")
        return value


class GenerationOptions(StrictModel):
    tone: str = Field("friendly", min_length=1, max_length=60,
                      description="friendly, professional, luxury, playful, or free text")
    audience: str | None = Field(None, max_length=200)
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$",
                          description="Languages other than English depend on the model.")
    keywords: list[str] = Field(default_factory=list, max_length=10)
    max_words: int = Field(80, ge=10, le=600)
    temperature: float = Field(0.7, ge=0, le=2)
    seed: int | None = Field(None, ge=0, le=2**31 - 1,
                             description="Same seed and input give the same text.")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        if any(not k.strip() or len(k) > 60 for k in value):
            raise ValueError("keywords must be 1-60 characters each")
        return [k.strip() for k in value]


class ProductDescriptionInput(StrictModel):
    product: Product
    options: GenerationOptions = Field(default_factory=GenerationOptions)


class SeoMetadataInput(StrictModel):
    product: Product
    options: GenerationOptions = Field(default_factory=GenerationOptions)


class CopyFormat(StrEnum):
    ARTICLE = "article"
    VIDEO_SCRIPT = "video_script"
    EMAIL = "email"
    SOCIAL_POST = "social_post"


class MarketingCopyInput(StrictModel):
    format: CopyFormat
    topic: str = Field(min_length=1, max_length=300)
    products: list[Product] = Field(default_factory=list, max_length=10)
    audience: str | None = Field(None, max_length=200)
    options: GenerationOptions = Field(default_factory=GenerationOptions)


LocalisedText = str | dict[str, str]


class ReplySettings(StrictModel):
    """What a shop tells customers on social media; each text is one string, or a map from
    language code to string (`{"en": "...", "zh": "..."}`)."""

    shipping: LocalisedText | None = Field(
        None, description="Shipping policy, e.g. 'We ship within 2 business days.'")
    returns: LocalisedText | None = Field(
        None, description="Returns policy, e.g. 'Returns are free within 30 days.'")
    contact: LocalisedText | None = Field(
        None, description="How to reach the shop privately, as a verb phrase that follows "
                          "'please': 'send us a direct message', 'email help@shop.example'.")

    @field_validator("shipping", "returns", "contact")
    @classmethod
    def _short_texts(cls, value: LocalisedText | None) -> LocalisedText | None:
        texts = value.values() if isinstance(value, dict) else [value] if value else []
        if isinstance(value, dict) and not value:
            raise ValueError("give at least one language")
        for language in (value if isinstance(value, dict) else []):
            if not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", language):
                raise ValueError(f"{language!r} is not a language code like en or zh")
        for text in texts:
            if not text.strip() or len(text) > 500:
                raise ValueError("texts must be 1-500 characters")
        return value


class SocialReplyInput(StrictModel):
    platform: str = Field(min_length=1, max_length=40)
    message: str = Field(min_length=1, max_length=2000)
    author: str | None = Field(None, max_length=100)
    product: Product | None = None
    brand_voice: str | None = Field(None, max_length=300)
    reply_settings: ReplySettings | None = Field(
        None, description="Overrides the tenant's stored reply settings for this job.")
    options: GenerationOptions = Field(
        default_factory=lambda: GenerationOptions(max_words=60)
    )
