"""traffic restrictions; geography index for nearby searches

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-28 17:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traffic_restrictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('alternating', 'closed', 'detour', 'lane', 'other')",
            name=op.f("ck_traffic_restrictions_kind"),
        ),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_traffic_restrictions_dates")
        ),
        sa.CheckConstraint(
            "char_length(description) <= 200", name=op.f("ck_traffic_restrictions_description")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_traffic_restrictions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_restrictions")),
    )
    op.create_index(
        op.f("ix_traffic_restrictions_project_id"), "traffic_restrictions", ["project_id"]
    )
    # Distances in metres come from geography; the nearby search (KNN <-> and ST_DWithin on
    # geom::geography) can only use an index built on that same expression. Alembic's
    # autogenerate skips expression indexes, so it is kept here rather than on the model.
    # IF NOT EXISTS: another branch from 0002 may create the same index.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_projects_geog ON projects USING gist ((geom::geography))"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_projects_geog")
    op.drop_index(op.f("ix_traffic_restrictions_project_id"), table_name="traffic_restrictions")
    op.drop_table("traffic_restrictions")
