"""/v1/settings: the calling tenant's stored settings (social reply texts, raw-input opt-in)."""

from __future__ import annotations

from flask import Blueprint, g

from api.body import json_body, require_object
from api.errors import validated
from api.openapi import documented
from api.services import get_db
from shared import tenant_settings
from shared.models import TenantSettings, utcnow
from shared.schemas.tenant_settings import TenantSettingsBody, TenantSettingsView

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _view(row: TenantSettings | None) -> dict:
    if row is None:
        return TenantSettingsBody().model_dump(mode="json") | {"updated_at": None}
    return {"replies": row.replies, "store_raw_input": row.store_raw_input,
            "job_retention_days": row.job_retention_days,
            "delivery_retention_days": row.delivery_retention_days,
            "updated_at": row.updated_at.isoformat().replace("+00:00", "Z")}


@bp.get("")
@documented("The tenant's stored settings (reply texts, raw-input opt-in, retention)",
            answer="settings", schema=TenantSettingsView)
def get_settings():
    """The tenant's settings (defaults until it stores some)."""
    with get_db().session() as session:
        return _view(tenant_settings.load(session, g.tenant_id))


@bp.put("")
@documented("Replace the tenant's stored settings", answer="settings",
            schema=TenantSettingsView, body=TenantSettingsBody)
def put_settings():
    """Replace the tenant's settings."""
    body = validated(TenantSettingsBody, require_object(json_body()), "settings are invalid")
    with get_db().session() as session:
        row = tenant_settings.load(session, g.tenant_id) or TenantSettings(tenant_id=g.tenant_id)
        row.replies = body.replies.model_dump(exclude_none=True) if body.replies else None
        row.store_raw_input = body.store_raw_input
        row.job_retention_days = body.job_retention_days
        row.delivery_retention_days = body.delivery_retention_days
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
        return _view(row)
