"""indicator figures, and indexes for the meeting map and the dashboard

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(12, 3), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("is_sample", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(
            "fiscal_year BETWEEN 2000 AND 2100", name=op.f("ck_indicator_figures_fiscal_year")
        ),
        sa.CheckConstraint("length(btrim(source)) > 0", name=op.f("ck_indicator_figures_source")),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_figures_indicator_id_indicators"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_indicator_figures_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_figures")),
    )
    op.create_index(
        "ix_indicator_figures_lookup",
        "indicator_figures",
        ["indicator_id", "fiscal_year", "recorded_at"],
    )
    # Reading a status "as of" a date walks each project's history newest first.
    op.create_index(
        "ix_status_updates_project_recorded",
        "status_updates",
        ["project_id", sa.text("recorded_at DESC"), sa.text("id DESC")],
        postgresql_include=["status", "progress"],
    )
    # The dashboard starts from the works that were ever completed.
    op.create_index(
        "ix_status_updates_completed",
        "status_updates",
        ["project_id"],
        postgresql_where=sa.text("status = 'completed'"),
    )
    # "Changes since" scans the history by time.
    op.create_index("ix_status_updates_recorded_at", "status_updates", ["recorded_at"])
    # The link tables' primary keys start with project_id; these serve the other direction.
    op.create_index(
        "ix_project_plan_items_plan_item", "project_plan_items", ["plan_item_id", "project_id"]
    )
    op.create_index(
        "ix_project_indicators_indicator", "project_indicators", ["indicator_id", "project_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_project_indicators_indicator", table_name="project_indicators")
    op.drop_index("ix_project_plan_items_plan_item", table_name="project_plan_items")
    op.drop_index("ix_status_updates_recorded_at", table_name="status_updates")
    op.drop_index("ix_status_updates_completed", table_name="status_updates")
    op.drop_index("ix_status_updates_project_recorded", table_name="status_updates")
    op.drop_index("ix_indicator_figures_lookup", table_name="indicator_figures")
    op.drop_table("indicator_figures")
