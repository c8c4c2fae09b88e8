"""PUT /v1/settings: what a tenant configures once for all its jobs."""

from __future__ import annotations

from pydantic import Field

from shared.schemas.base import StrictModel
from shared.schemas.generation import ReplySettings


class TenantSettingsBody(StrictModel):
    replies: ReplySettings | None = Field(
        None, description="Texts social replies answer from (shipping, returns, contact); a "
                          "job's own `reply_settings` override them field by field.")
    store_raw_input: bool = Field(
        False, description="Keep jobs' inputs as sent. By default e-mails, phone numbers and "
                           "card numbers in people's text (messages, topics) are stored "
                           "redacted; product data never is.")
    job_retention_days: int | None = Field(
        None, ge=1, le=3650, description="Days a finished job (input and result) is kept "
                                         "after it finished; null: the server's default "
                                         "(VITRINE_JOB_RETENTION_DAYS).")
    delivery_retention_days: int | None = Field(
        None, ge=1, le=3650, description="Days a finished webhook delivery and its attempts "
                                         "are kept; null: the server's default "
                                         "(VITRINE_DELIVERY_RETENTION_DAYS).")


class TenantSettingsView(StrictModel):
    """GET and PUT /v1/settings answer with the stored settings and when they changed."""

    replies: ReplySettings | None
    store_raw_input: bool
    job_retention_days: int | None
    delivery_retention_days: int | None
    updated_at: str | None = Field(description="ISO 8601 UTC; null until first stored")
