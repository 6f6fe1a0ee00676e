"""status updates keep the time on site (observed_at) beside the time they reached the server

Revision ID: truth01
Revises: ops1
Create Date: 2026-11-29 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "truth01"
down_revision = "ops1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "status_updates", sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Entries written so far were seen when they were stored. History is append-only, so its
    # guard stands aside for this one backfill and no other change.
    op.execute("ALTER TABLE status_updates DISABLE TRIGGER status_updates_append_only")
    op.execute("UPDATE status_updates SET observed_at = recorded_at")
    op.execute("ALTER TABLE status_updates ENABLE TRIGGER status_updates_append_only")
    op.alter_column("status_updates", "observed_at", nullable=False)

    # History is read in the order things happened on site.
    op.drop_index("ix_status_updates_project_recorded", table_name="status_updates")
    op.drop_index("ix_status_updates_recorded_at", table_name="status_updates")
    op.create_index(
        "ix_status_updates_project_observed",
        "status_updates",
        ["project_id", sa.text("observed_at DESC"), sa.text("id DESC")],
        postgresql_include=["status", "progress"],
    )
    op.create_index("ix_status_updates_observed_at", "status_updates", ["observed_at"])


def downgrade() -> None:
    op.drop_index("ix_status_updates_observed_at", table_name="status_updates")
    op.drop_index("ix_status_updates_project_observed", table_name="status_updates")
    op.create_index("ix_status_updates_recorded_at", "status_updates", ["recorded_at"])
    op.create_index(
        "ix_status_updates_project_recorded",
        "status_updates",
        ["project_id", sa.text("recorded_at DESC"), sa.text("id DESC")],
        postgresql_include=["status", "progress"],
    )
    op.drop_column("status_updates", "observed_at")
