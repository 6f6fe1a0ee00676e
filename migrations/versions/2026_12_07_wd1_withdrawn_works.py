"""Works withdrawn (取り下げ): when, why and by whom; their withdrawal and restoring audited.

Revision ID: wd1
Revises: acc2fa
Create Date: 2026-12-07 01:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "wd1"
down_revision = "acc2fa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("projects", sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    op.add_column("projects", sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_projects_withdrawn_by_id_users"), "projects", "users",
        ["withdrawn_by_id"], ["id"],
    )  # fmt: skip
    op.create_check_constraint(
        op.f("ck_projects_withdrawn"), "projects",
        "(withdrawn_at IS NULL) = (withdrawn_reason IS NULL)",
    )  # fmt: skip
    op.drop_constraint(op.f("ck_project_changes_action"), "project_changes")
    op.create_check_constraint(
        op.f("ck_project_changes_action"), "project_changes",
        "action IN ('create', 'update', 'delete', 'withdraw', 'restore')",
    )  # fmt: skip


def downgrade() -> None:
    op.execute("DELETE FROM project_changes WHERE action IN ('withdraw', 'restore')")
    op.drop_constraint(op.f("ck_project_changes_action"), "project_changes")
    op.create_check_constraint(
        op.f("ck_project_changes_action"), "project_changes",
        "action IN ('create', 'update', 'delete')",
    )  # fmt: skip
    op.drop_constraint(op.f("ck_projects_withdrawn"), "projects")
    op.drop_constraint(op.f("fk_projects_withdrawn_by_id_users"), "projects", type_="foreignkey")
    op.drop_column("projects", "withdrawn_by_id")
    op.drop_column("projects", "withdrawn_reason")
    op.drop_column("projects", "withdrawn_at")
