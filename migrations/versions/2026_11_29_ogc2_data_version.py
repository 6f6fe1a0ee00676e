"""data_version: a number raised in the same commit as any change to what the layers show

Revision ID: ogc2
Revises: alerts02
Create Date: 2026-11-29 12:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "ogc2"
down_revision = "alerts02"
branch_labels = None
depends_on = None

# Everything the OGC layers, their tiles and the maps read.
TABLES = (
    "projects",
    "status_updates",
    "project_plan_items",
    "project_indicators",
    "plan_items",
    "indicators",
    "traffic_restrictions",
    "facilities",
    "hazard_layers",
    "hazard_zones",
)

# Deferred to the commit, so that the one row is locked only while a transaction commits
# (never while it waits for other locks), and raised once per statement that fires it:
# at commit that is once per transaction; with the triggers set immediate (the tests' one
# rolled-back transaction) once per change.
BUMP = """
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('tracker.data_version_at', true) IS DISTINCT FROM
     statement_timestamp()::text THEN
    PERFORM set_config('tracker.data_version_at', statement_timestamp()::text, true);
    UPDATE data_version SET version = version + 1;
  END IF;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("one", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("one", name=op.f("ck_data_version_one")),
        sa.PrimaryKeyConstraint("one", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (version) VALUES (1)")
    op.execute(BUMP)
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER data_version AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER data_version ON {table}")
    op.execute("DROP FUNCTION bump_data_version()")
    op.drop_table("data_version")
