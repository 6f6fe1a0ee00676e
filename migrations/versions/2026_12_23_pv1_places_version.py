"""data_version.places: a number raised only when works are added, removed, moved, renamed,
hidden or shown, so that what is placed by where works are and what they are called (the
works by district) is kept across the far more common changes of status.

Revision ID: pv1
Revises: cs1
Create Date: 2026-12-23 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "pv1"
down_revision = "cs1"
branch_labels = None
depends_on = None

# As bump_data_version (migration ogc2): deferred to the commit, once per statement.
BUMP = """
CREATE FUNCTION bump_places_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('tracker.places_version_at', true) IS DISTINCT FROM
     statement_timestamp()::text THEN
    PERFORM set_config('tracker.places_version_at', statement_timestamp()::text, true);
    UPDATE data_version SET places = places + 1;
  END IF;
  RETURN NULL;
END
$$
"""

# The columns a placement reads. An update that leaves them as they were (a new status, a
# new progress) queues nothing. Shapes are compared as their bytes: a dump prints IS DISTINCT
# FROM without the operator's schema, and with a restore's empty search_path PostGIS's
# geometry = is not found.
PLACED_COLUMNS = ("name", "geom::bytea", "is_public", "withdrawn_at")
CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in PLACED_COLUMNS)


def upgrade() -> None:
    op.add_column(
        "data_version", sa.Column("places", sa.BigInteger(), server_default="1", nullable=False)
    )
    op.execute(BUMP)
    op.execute(
        "CREATE CONSTRAINT TRIGGER places_version AFTER INSERT OR DELETE ON projects"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_places_version()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER places_version_moved AFTER UPDATE ON projects"
        f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({CHANGED})"
        " EXECUTE FUNCTION bump_places_version()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER places_version_moved ON projects")
    op.execute("DROP TRIGGER places_version ON projects")
    op.execute("DROP FUNCTION bump_places_version()")
    op.drop_column("data_version", "places")
