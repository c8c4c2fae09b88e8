"""Tenants and API keys: creating keys and resolving a presented key to its tenant."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import ApiKey, Tenant, utcnow
from shared.webhooks.secrets import new_secret

KEY_PREFIX = "vt_"
PREFIX_LENGTH = 10  # characters of a key kept readable, to tell keys apart in listings


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, tenant_name: str) -> str:
    """Create the tenant if needed, store a new key's hash, and return the key (shown once)."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        # Its webhook signing secret is made with it: reading it never creates one.
        tenant = Tenant(name=tenant_name, webhook_secret=new_secret())
        session.add(tenant)
        session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(tenant_id=tenant.id, key_hash=hash_api_key(key), prefix=key[:PREFIX_LENGTH]))
    return key


def tenant_for_key(session: Session, key: str) -> uuid.UUID | None:
    """The tenant id owning an unrevoked `key`, or None."""
    return session.scalar(
        select(ApiKey.tenant_id).where(
            ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None)
        )
    )


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never the key, only its first characters."""

    id: uuid.UUID
    tenant: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def list_api_keys(session: Session, tenant_name: str | None = None) -> list[KeyInfo]:
    """Every key (revoked ones too), oldest first, optionally for one tenant."""
    query = (select(ApiKey, Tenant.name).join(Tenant, Tenant.id == ApiKey.tenant_id)
             .order_by(ApiKey.created_at, ApiKey.id))
    if tenant_name is not None:
        query = query.where(Tenant.name == tenant_name)
    return [KeyInfo(key.id, name, key.prefix, key.created_at, key.revoked_at)
            for key, name in session.execute(query)]


class KeyNotFound(LookupError):
    """No key, or more than one, matches what was given to revoke."""


def revoke_api_key(session: Session, key_or_prefix: str) -> KeyInfo:
    """Revoke the key given whole, by id, or by the prefix `list-api-keys` shows.

    A prefix must name exactly one key. Revoking twice keeps the first revocation time.
    """
    if key_or_prefix.startswith(KEY_PREFIX) and len(key_or_prefix) > PREFIX_LENGTH:
        condition = ApiKey.key_hash == hash_api_key(key_or_prefix)
    else:
        try:
            condition = ApiKey.id == uuid.UUID(key_or_prefix)
        except ValueError:
            condition = ApiKey.prefix == key_or_prefix
    keys = session.scalars(select(ApiKey).where(condition)).all()
    if not keys:
        raise KeyNotFound(f"no key matches {key_or_prefix!r}")
    if len(keys) > 1:
        raise KeyNotFound(f"{len(keys)} keys match {key_or_prefix!r}; give the id that "
                          "`flask --app api list-api-keys` shows")
    session.execute(update(ApiKey).where(ApiKey.id == keys[0].id, ApiKey.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))
    return next(k for k in list_api_keys(session) if k.id == keys[0].id)
