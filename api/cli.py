"""Flask CLI commands for API keys: `flask --app api create-api-key | list-api-keys |
revoke-api-key`, and tenants' limits: `flask --app api tenant set-limits | show-limits`."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from api.services import get_db, get_settings
from shared.models import Tenant
from shared.tenancy import KeyNotFound, create_api_key, list_api_keys, revoke_api_key
from shared.tenant_limits import UnknownTenant, effective_limits, set_limits


def _when(value) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else "-"


def init_app(app: Flask) -> None:
    @app.cli.command("create-api-key")
    @click.option("--tenant", required=True, help="Tenant name; created if it does not exist.")
    def create_api_key_command(tenant: str) -> None:
        """Create an API key for TENANT and print it (it is stored only as a hash)."""
        with get_db().session() as session:
            key = create_api_key(session, tenant)
        click.echo(key)

    @app.cli.command("list-api-keys")
    @click.option("--tenant", default=None, help="Only this tenant's keys.")
    def list_api_keys_command(tenant: str | None) -> None:
        """List keys (id, tenant, first characters, created, revoked); never the keys."""
        with get_db().session() as session:
            keys = list_api_keys(session, tenant)
        click.echo(f"{'id':36}  {'tenant':20}  {'prefix':10}  {'created':20}  revoked")
        for key in keys:
            click.echo(f"{key.id!s:36}  {key.tenant:20}  {key.prefix:10}  "
                       f"{_when(key.created_at):20}  {_when(key.revoked_at)}")

    @app.cli.command("revoke-api-key")
    @click.argument("key")
    def revoke_api_key_command(key: str) -> None:
        """Revoke KEY: the key itself, its id, or its prefix as list-api-keys shows it.

        Every API process refuses it within a second (their key caches live half a second).
        """
        try:
            with get_db().session() as session:
                info = revoke_api_key(session, key)
        except KeyNotFound as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"revoked {info.prefix}... (id {info.id}, tenant {info.tenant}) "
                   f"at {_when(info.revoked_at)}")

    _init_tenant_commands(app)


class _LimitValue(click.ParamType):
    """A number in range, or `default` (back to the VITRINE_TENANT_* setting)."""

    name = "number|default"

    def __init__(self, kind: type, low: float, high: float | None = None) -> None:
        self.kind, self.low, self.high = kind, low, high

    def convert(self, value, param, ctx):
        if value is None or value == "default":
            return value
        try:
            number = self.kind(value)
        except ValueError:
            self.fail(f"{value!r} is not a {self.kind.__name__} or 'default'", param, ctx)
        if number < self.low or (self.high is not None and number > self.high) or \
                (self.kind is float and number == 0):
            top = f"..{self.high}" if self.high is not None else " or more"
            self.fail(f"{value} is out of range ({self.low}{top})", param, ctx)
        return number


_LIMIT_OPTIONS = {  # option -> (column, type)
    "rate": ("submit_rate", _LimitValue(float, 0)),
    "burst": ("submit_burst", _LimitValue(int, 1)),
    "max_active": ("max_active_jobs", _LimitValue(int, 1)),
    "max_priority": ("max_priority", _LimitValue(int, 0, 9)),
}


def _init_tenant_commands(app: Flask) -> None:
    @app.cli.group("tenant")
    def tenant_group() -> None:
        """A tenant's limits (the defaults are the VITRINE_TENANT_* settings)."""

    @tenant_group.command("set-limits")
    @click.argument("tenant")
    @click.option("--rate", type=_LIMIT_OPTIONS["rate"][1],
                  help="Submissions per second sustained, or 'default'.")
    @click.option("--burst", type=_LIMIT_OPTIONS["burst"][1],
                  help="Submissions at once before the rate applies, or 'default'.")
    @click.option("--max-active", type=_LIMIT_OPTIONS["max_active"][1],
                  help="Jobs queued or running at once, or 'default'.")
    @click.option("--max-priority", type=_LIMIT_OPTIONS["max_priority"][1],
                  help="Priority ceiling 0-9 (higher requests are lowered), or 'default'.")
    def set_limits_command(tenant: str, **options) -> None:
        """Override TENANT's limits; options not given keep their current value."""
        changes = {_LIMIT_OPTIONS[name][0]: None if value == "default" else value
                   for name, value in options.items() if value is not None}
        if not changes:
            raise click.UsageError("give at least one of --rate, --burst, --max-active, "
                                   "--max-priority")
        try:
            with get_db().session() as session:
                tenant_id = set_limits(session, tenant, changes)
        except UnknownTenant as exc:
            raise click.ClickException(str(exc)) from None
        _show(tenant, tenant_id)

    @tenant_group.command("show-limits")
    @click.argument("tenant")
    def show_limits_command(tenant: str) -> None:
        """Print TENANT's limits in effect."""
        with get_db().session() as session:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == tenant))
        if tenant_id is None:
            raise click.ClickException(f"no tenant {tenant!r}")
        _show(tenant, tenant_id)


def _show(tenant: str, tenant_id) -> None:
    with get_db().session() as session:
        limits = effective_limits(session, get_settings(), tenant_id)
    click.echo(f"tenant {tenant}: rate={limits.submit_rate:g}/s burst={limits.submit_burst} "
               f"max_active={limits.max_active_jobs} max_priority={limits.max_priority}")
