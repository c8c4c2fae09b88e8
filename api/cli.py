"""Flask CLI commands: `flask --app api create-api-key --tenant NAME`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from shared.tenancy import create_api_key


def init_app(app: Flask) -> None:
    @app.cli.command("create-api-key")
    @click.option("--tenant", required=True, help="Tenant name; created if it does not exist.")
    def create_api_key_command(tenant: str) -> None:
        """Create an API key for TENANT and print it (it is stored only as a hash)."""
        with current_app.extensions["vitrine.db"].session() as session:
            key = create_api_key(session, tenant)
        click.echo(key)
