"""Alembic environment: the URL comes from the Alembic config or from Settings."""

from alembic import context

from shared.db import create_db_engine
from shared.models import Base
from shared.settings import Settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url

engine = create_db_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
