"""Run Alembic migrations: `python -m shared.migrate` upgrades DATABASE_URL to head."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url:
        # ConfigParser interpolation would read a '%' in a password as a directive.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the database at `database_url` (default: settings) up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def main(argv: list[str]) -> int:
    if argv[:1] == ["revision"]:
        command.revision(alembic_config(), message=" ".join(argv[1:]), autogenerate=True)
        return 0
    upgrade()
    print("migrations: database is at head")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
