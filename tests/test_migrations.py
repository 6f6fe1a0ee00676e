"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers

import tracker.wiring.models  # noqa: F401  (registers every table)
from tracker.core.db import Base


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": alembic_helpers.include_object,
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_one_head(engine):
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    assert len(heads) == 1, heads
