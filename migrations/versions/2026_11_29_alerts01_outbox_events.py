"""outbox of public changes, written in the same transaction as each change

Revision ID: alerts01
Revises: truth04
Create Date: 2026-11-29 05:45:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "alerts01"
down_revision = "truth04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("status_update_id", sa.Integer(), nullable=True),
        sa.Column("restriction_id", sa.Integer(), nullable=True),
        sa.Column("restriction_change_id", sa.Integer(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('restriction_added', 'restriction_changed', 'restriction_lifted', 'status')",
            name=op.f("ck_outbox_events_kind"),
        ),
        sa.CheckConstraint(
            "(kind = 'status') = (status_update_id IS NOT NULL)"
            " AND (kind = 'status') = (restriction_change_id IS NULL)",
            name=op.f("ck_outbox_events_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_outbox_events_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["restriction_id"],
            ["traffic_restrictions.id"],
            name=op.f("fk_outbox_events_restriction_id_traffic_restrictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["restriction_change_id"],
            ["restriction_changes.id"],
            name=op.f("fk_outbox_events_restriction_change_id_restriction_changes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["status_update_id"],
            ["status_updates.id"],
            name=op.f("fk_outbox_events_status_update_id_status_updates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    op.create_index(op.f("ix_outbox_events_project_id"), "outbox_events", ["project_id"])
    op.create_index(
        "ix_outbox_events_unhandled",
        "outbox_events",
        ["id"],
        postgresql_where=sa.text("handled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox_events")
