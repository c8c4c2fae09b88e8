"""/v1/settings: the calling tenant's stored settings (social reply texts, raw-input opt-in)."""

from __future__ import annotations

from flask import Blueprint, current_app, g
from pydantic import ValidationError

from api.auth import authenticate
from api.body import json_body, require_object
from api.errors import ApiError
from shared import tenant_settings
from shared.models import TenantSettings, utcnow
from shared.schemas.base import validation_details
from shared.schemas.tenant_settings import TenantSettingsBody

bp = Blueprint("settings", __name__, url_prefix="/v1/settings")
bp.before_request(authenticate)


def _view(row: TenantSettings | None) -> dict:
    if row is None:
        return TenantSettingsBody().model_dump(mode="json") | {"updated_at": None}
    return {"replies": row.replies, "store_raw_input": row.store_raw_input,
            "updated_at": row.updated_at.isoformat().replace("+00:00", "Z")}


@bp.get("")
def get_settings():
    """The tenant's settings (defaults until it stores some)."""
    with current_app.extensions["vitrine.db"].session() as session:
        return _view(tenant_settings.load(session, g.tenant_id))


@bp.put("")
def put_settings():
    """Replace the tenant's settings."""
    try:
        body = TenantSettingsBody.model_validate(require_object(json_body()))
    except ValidationError as exc:
        raise ApiError(422, "validation_error", "settings are invalid",
                       validation_details(exc)) from None
    with current_app.extensions["vitrine.db"].session() as session:
        row = tenant_settings.load(session, g.tenant_id) or TenantSettings(tenant_id=g.tenant_id)
        row.replies = body.replies.model_dump(exclude_none=True) if body.replies else None
        row.store_raw_input = body.store_raw_input
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
        return _view(row)
