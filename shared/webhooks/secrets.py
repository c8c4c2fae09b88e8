"""Per-tenant webhook signing secrets and their rotation.

A tenant has one current secret and, for a while after a rotation, the previous one; every
delivery is signed with each active secret, so receivers can switch over at their own pace.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import Tenant, utcnow
from shared.webhooks.signing import SECRET_PREFIX

SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True)
class TenantSecrets:
    current: str
    previous: str | None
    previous_expires_at: datetime | None

    def active(self) -> list[str]:
        """Secrets to sign with, current first."""
        return [self.current] + ([self.previous] if self.previous else [])


def _read(session: Session, tenant_id: uuid.UUID) -> Tenant:
    return session.scalars(
        select(Tenant).where(Tenant.id == tenant_id).execution_options(populate_existing=True)
    ).one()


def tenant_secrets(session: Session, tenant_id: uuid.UUID,
                   now: datetime | None = None) -> TenantSecrets:
    """The tenant's active secrets; the first is created on first use."""
    now = now or utcnow()
    tenant = _read(session, tenant_id)
    if tenant.webhook_secret is None:
        # Conditional, so two first uses at once agree on one secret.
        session.execute(update(Tenant).where(Tenant.id == tenant_id,
                                             Tenant.webhook_secret.is_(None))
                        .values(webhook_secret=new_secret()))
        tenant = _read(session, tenant_id)
    expires = tenant.webhook_secret_previous_expires_at
    if tenant.webhook_secret_previous and expires is not None and expires > now:
        return TenantSecrets(tenant.webhook_secret, tenant.webhook_secret_previous, expires)
    return TenantSecrets(tenant.webhook_secret, None, None)


def rotate(session: Session, tenant_id: uuid.UUID, previous_valid_for_s: int,
           now: datetime | None = None) -> TenantSecrets:
    """Make a new current secret; the old one keeps signing for `previous_valid_for_s`."""
    now = now or utcnow()
    old = tenant_secrets(session, tenant_id, now).current
    session.execute(update(Tenant).where(Tenant.id == tenant_id).values(
        webhook_secret=new_secret(), webhook_secret_previous=old,
        webhook_secret_previous_expires_at=now + timedelta(seconds=previous_valid_for_s),
    ))
    return tenant_secrets(session, tenant_id, now)
