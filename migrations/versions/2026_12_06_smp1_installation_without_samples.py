"""An installation that keeps no sample data, and works whose audit outlives them.

Revision ID: smp1
Revises: acc1
Create Date: 2026-12-06 04:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "smp1"
down_revision = "acc1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_settings",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    # A removed work keeps its audit rows, and gains one that says it was removed.
    op.drop_constraint(
        op.f("fk_project_changes_project_id_projects"), "project_changes", type_="foreignkey"
    )
    op.drop_constraint(op.f("ck_project_changes_action"), "project_changes")
    op.create_check_constraint(
        op.f("ck_project_changes_action"), "project_changes",
        "action IN ('create', 'update', 'delete')",
    )  # fmt: skip


def downgrade() -> None:
    op.execute("DELETE FROM project_changes WHERE action = 'delete'")
    op.execute(
        "DELETE FROM project_changes WHERE project_id NOT IN (SELECT id FROM projects)"
    )
    op.drop_constraint(op.f("ck_project_changes_action"), "project_changes")
    op.create_check_constraint(
        op.f("ck_project_changes_action"), "project_changes", "action IN ('create', 'update')"
    )
    op.create_foreign_key(
        op.f("fk_project_changes_project_id_projects"), "project_changes", "projects",
        ["project_id"], ["id"],
    )  # fmt: skip
    op.drop_table("site_settings")
