"""Alembic environment: runs migrations against the app's database."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

import tracker.wiring.models  # noqa: F401  (registers every table on the metadata)
from tracker.core.db import Base

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        # GeoAlchemy2's helpers keep autogenerate from duplicating spatial indexes.
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )


def run_migrations_online() -> None:
    """Run the migrations on a connection given by the caller, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
