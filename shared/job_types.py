"""Which job types exist and the schema that validates each one's input."""

from __future__ import annotations

from pydantic import BaseModel

from shared.schemas.catalogs import RecommendationInput
from shared.schemas.generation import (
    MarketingCopyInput,
    ProductDescriptionInput,
    SeoMetadataInput,
    SocialReplyInput,
)
from shared.schemas.user_profile import UserProfileInput

JOB_INPUT_SCHEMAS: dict[str, type[BaseModel]] = {
    "user_profile": UserProfileInput,
    "product_description": ProductDescriptionInput,
    "seo_metadata": SeoMetadataInput,
    "marketing_copy": MarketingCopyInput,
    "social_reply": SocialReplyInput,
    "recommendation": RecommendationInput,
}


def register_job_type(job_type: str, input_schema: type[BaseModel]) -> None:
    """Add a job type (used by extensions and by the test suite's diagnostic jobs)."""
    JOB_INPUT_SCHEMAS[job_type] = input_schema
