"""A tenant's limits: the VITRINE_TENANT_* defaults, overridden per tenant by the operator."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, fields

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from shared.models import Job, Tenant, TenantLimits, utcnow
from shared.settings import Settings
from shared.status import JobStatus

ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


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
    row = session.get(TenantLimits, tenant_id)
    return _with_defaults(settings, [getattr(row, name) if row else None
                                     for name in OVERRIDABLE])


def _with_defaults(settings: Settings, overrides: list) -> EffectiveLimits:
    """Each override (in OVERRIDABLE's order) where set, else the setting's default."""
    defaults = _defaults(settings)
    return EffectiveLimits(**{
        name: value if value is not None else getattr(defaults, name)
        for name, value in zip(OVERRIDABLE, overrides, strict=True)})


@functools.cache
def _limits_and_active_statement():
    """One row whether or not the tenant has overrides: the count of its active jobs and its
    override columns (NULL where it has none), built once."""
    tenant = bindparam("of_tenant", type_=TenantLimits.tenant_id.type)
    active = (select(func.count()).where(Job.tenant_id == tenant, Job.status.in_(ACTIVE))
              .scalar_subquery())
    one_row = select(literal_column("1").label("one")).subquery()
    return (select(active, *(getattr(TenantLimits, name) for name in OVERRIDABLE))
            .select_from(one_row.outerjoin(TenantLimits, TenantLimits.tenant_id == tenant)))


def limits_and_active(session: Session, settings: Settings, tenant_id: uuid.UUID
                      ) -> tuple[EffectiveLimits, int]:
    """`effective_limits` and the tenant's queued or running jobs in one statement: every
    submission reads both, and each statement costs more in SQLAlchemy than in the database."""
    # On the connection: a Core statement, and the ORM's execution layer costs more than it.
    active, *overrides = session.connection().execute(_limits_and_active_statement(),
                                                      {"of_tenant": tenant_id}).one()
    return _with_defaults(settings, overrides), active


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
