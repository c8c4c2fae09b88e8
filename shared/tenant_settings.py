"""A tenant's stored settings, read by the API (raw-input opt-in) and workers (replies)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from shared.models import TenantSettings
from shared.pii import redact_tree

# Job types whose inputs carry people's free text (messages, topics, audiences).
REDACTED_TYPES = frozenset({"product_description", "seo_metadata", "marketing_copy",
                            "social_reply"})
# Subtrees that describe the shop and its products, not people: never redacted, so a
# model number or the shop's own support address stays as the shop wrote it.
NOT_PERSONAL = frozenset({"product", "products", "reply_settings"})


def load(session: Session, tenant_id: uuid.UUID | None) -> TenantSettings | None:
    if tenant_id is None:
        return None
    return session.get(TenantSettings, tenant_id)


def redact_personal(job_input: dict[str, Any], counts: Counter | None = None) -> dict[str, Any]:
    """The input with e-mails, phones and card numbers replaced outside product data."""
    counts = counts if counts is not None else Counter()
    return {key: value if key in NOT_PERSONAL else redact_tree(value, counts)
            for key, value in job_input.items()}
