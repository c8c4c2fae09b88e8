"""Tenants and API keys: creating keys and resolving a presented key to its tenant."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import ApiKey, Tenant

KEY_PREFIX = "vt_"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, tenant_name: str) -> str:
    """Create the tenant if needed, store a new key's hash, and return the key (shown once)."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        tenant = Tenant(name=tenant_name)
        session.add(tenant)
        session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(tenant_id=tenant.id, key_hash=hash_api_key(key), prefix=key[:10]))
    return key


def tenant_for_key(session: Session, key: str) -> uuid.UUID | None:
    """The tenant id owning an unrevoked `key`, or None."""
    return session.scalar(
        select(ApiKey.tenant_id).where(
            ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None)
        )
    )
