"""/v1/webhooks: the tenant's signing secrets (read, rotate) and URLs disabled by 410 Gone."""

from __future__ import annotations

from flask import Blueprint, g, request
from sqlalchemy import delete, select

from api.body import json_body, require_object
from api.errors import ApiError, validated
from api.openapi import documented, query
from api.services import get_db
from api.transactions import in_transaction
from shared.models import DisabledWebhookUrl
from shared.schemas.jobs import iso
from shared.schemas.webhooks import RotateSecret, disabled_url_view
from shared.webhooks import secrets

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
SECRETS = "secret, previous_secret, previous_expires_at"


def _secrets_view(active: secrets.TenantSecrets) -> dict:
    view = {"secret": active.current, "previous_secret": None, "previous_expires_at": None}
    if active.previous:
        view.update(previous_secret=active.previous,
                    previous_expires_at=iso(active.previous_expires_at))
    return view


@bp.get("/secret")
@documented("The tenant's webhook signing secret(s)", answer=SECRETS, errors=[404])
def get_secret():
    """The secrets deliveries are signed with; a read never creates one (POST does)."""
    with get_db().session() as session:
        active = secrets.existing_secrets(session, g.tenant_id)
        if active is None:
            raise ApiError(404, "not_found", "no webhook signing secret yet: create one with "
                           "POST /v1/webhooks/secret")
        return _secrets_view(active)


@bp.post("/secret")
@documented("Create the tenant's signing secret (once; then it answers the existing one)",
            status=201, answer=SECRETS, extra_responses={
                "200": {"description": "the secret already existed; unchanged"}})
def create_secret():
    """Tenants made since secrets come with the tenant already have one (200)."""
    def create(session):
        created = secrets.existing_secrets(session, g.tenant_id) is None
        return _secrets_view(secrets.tenant_secrets(session, g.tenant_id)), created

    view, created = in_transaction(create)
    return view, 201 if created else 200


@bp.post("/secret/rotate")
@documented("New signing secret; the old one also signs for a while", answer=SECRETS,
            body=RotateSecret, body_required=False)
def rotate_secret():
    """A new secret; the old one signs too until `previous_valid_for_s` has passed."""
    body = require_object(json_body()) if request.content_length else {}
    rotation = validated(RotateSecret, body, "rotation request is invalid")
    return in_transaction(lambda session: _secrets_view(
        secrets.rotate(session, g.tenant_id, rotation.previous_valid_for_s)))


@bp.get("/disabled-urls")
@documented("URLs disabled after answering 410 Gone", answer="disabled_urls")
def list_disabled_urls():
    with get_db().session() as session:
        rows = session.scalars(select(DisabledWebhookUrl)
                               .where(DisabledWebhookUrl.tenant_id == g.tenant_id)
                               .order_by(DisabledWebhookUrl.disabled_at)).all()
        return {"disabled_urls": [disabled_url_view(r) for r in rows]}


@bp.delete("/disabled-urls")
@documented("Re-enable a disabled URL", status=204, answer="enabled", errors=[404],
            parameters=[query("url", {"type": "string"}, required=True)])
def enable_url():
    """Re-enable a URL (`?url=`) that answered 410; later events are sent to it again."""
    url = request.args.get("url", "")
    if not url:
        raise ApiError(422, "validation_error", "which URL?",
                       [{"path": "query:url", "problem": "required"}])
    removed = in_transaction(lambda session: session.execute(delete(DisabledWebhookUrl).where(
        DisabledWebhookUrl.tenant_id == g.tenant_id, DisabledWebhookUrl.url == url)).rowcount)
    if not removed:
        raise ApiError(404, "not_found", f"{url!r} is not disabled")
    return "", 204
