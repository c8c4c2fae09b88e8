"""Flask CLI commands for API keys: `flask --app api create-api-key | list-api-keys |
revoke-api-key`."""

from __future__ import annotations

import click
from flask import Flask

from api.services import get_db
from shared.tenancy import KeyNotFound, create_api_key, list_api_keys, revoke_api_key


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
