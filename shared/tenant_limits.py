"""A tenant's limits: the VITRINE_TENANT_* defaults, overridden per tenant by the operator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import Tenant, TenantLimits, utcnow
from shared.settings import Settings


@dataclass(frozen=True)
class EffectiveLimits:
    submit_rate: float
    submit_burst: int
    max_active_jobs: int
    max_priority: int


OVERRIDABLE = tuple(f.name for f in fields(EffectiveLimits))


def _defaults(settings: Settings) -> EffectiveLimits:
    return EffectiveLimits(submit_rate=settings.tenant_submit_rate,
                           submit_burst=settings.tenant_submit_burst,
                           max_active_jobs=settings.tenant_max_active_jobs,
                           max_priority=settings.tenant_max_priority)


def effective_limits(session: Session, settings: Settings,
                     tenant_id: uuid.UUID) -> EffectiveLimits:
    """The tenant's overrides where set, else the settings' defaults."""
    defaults = _defaults(settings)
    row = session.get(TenantLimits, tenant_id)
    if row is None:
        return defaults
    return EffectiveLimits(**{name: getattr(row, name) if getattr(row, name) is not None
                              else getattr(defaults, name) for name in OVERRIDABLE})


class UnknownTenant(Exception):
    pass


def set_limits(session: Session, tenant_name: str, changes: dict[str, float | int | None]
               ) -> uuid.UUID:
    """Store the overrides in `changes` (None: back to the default); returns the tenant id."""
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == tenant_name))
    if tenant_id is None:
        raise UnknownTenant(f"no tenant {tenant_name!r}")
    row = session.get(TenantLimits, tenant_id)
    if row is None:
        row = TenantLimits(tenant_id=tenant_id)
        session.add(row)
    for name, value in changes.items():
        if name not in OVERRIDABLE:
            raise ValueError(f"unknown limit {name!r}")
        setattr(row, name, value)
    row.updated_at = utcnow()
    return tenant_id
