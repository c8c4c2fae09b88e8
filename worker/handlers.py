"""Job type -> the plain function that does the work (tasks stay thin)."""

from __future__ import annotations

from worker.generation.copywriting import describe_product
from worker.generation.marketing import write_marketing_copy
from worker.generation.seo import write_seo_metadata
from worker.generation.social import reply_to_social
from worker.profiling.handler import profile_user
from worker.recommendation.handler import recommend
from worker.runner import Handler

HANDLERS: dict[str, Handler] = {
    "user_profile": profile_user,
    "product_description": describe_product,
    "seo_metadata": write_seo_metadata,
    "marketing_copy": write_marketing_copy,
    "social_reply": reply_to_social,
    "recommendation": recommend,
}
