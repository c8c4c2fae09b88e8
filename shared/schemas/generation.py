"""Inputs of the generation jobs: a shared `product`, shared `options`, four job types."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from shared.schemas.base import StrictModel

AttributeValue = str | int | float | bool


class Product(StrictModel):
    title: str = Field(min_length=1, max_length=300)
    brand: str | None = Field(None, max_length=100)
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


class SocialReplyInput(StrictModel):
    platform: str = Field(min_length=1, max_length=40)
    message: str = Field(min_length=1, max_length=2000)
    author: str | None = Field(None, max_length=100)
    product: Product | None = None
    brand_voice: str | None = Field(None, max_length=300)
    options: GenerationOptions = Field(
        default_factory=lambda: GenerationOptions(max_words=60)
    )
