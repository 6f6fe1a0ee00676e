"""Works measured along their length (roads, pavements, revetments) may be stored as one point
when a works list gives only their position: such a work is marked position_only.

Revision ID: pos1
Revises: al1
Create Date: 2026-12-14 07:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "pos1"
down_revision = "al1"
branch_labels = None
depends_on = None

LINE_KINDS = "('pavement', 'revetment', 'road')"


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column("position_only", sa.Boolean(), server_default="false", nullable=False),
    )
    op.drop_constraint(op.f("ck_projects_line_kinds"), "projects", type_="check")
    op.create_check_constraint(
        op.f("ck_projects_line_kinds"),
        "projects",
        f"kind NOT IN {LINE_KINDS} OR ST_Dimension(geom) = 1 OR position_only",
    )
    op.create_check_constraint(
        op.f("ck_projects_position_only"),
        "projects",
        f"NOT position_only OR (kind IN {LINE_KINDS} AND GeometryType(geom) = 'POINT')",
    )


def downgrade() -> None:
    # A point cannot be made a line here, and works are never dropped: draw their lines first.
    kept = op.get_bind().scalar(sa.text("SELECT count(*) FROM projects WHERE position_only"))
    if kept:
        raise RuntimeError(
            f"{kept} position-only works: give them their lines before downgrading"
        )
    op.drop_constraint(op.f("ck_projects_position_only"), "projects", type_="check")
    op.drop_constraint(op.f("ck_projects_line_kinds"), "projects", type_="check")
    op.create_check_constraint(
        op.f("ck_projects_line_kinds"),
        "projects",
        f"kind NOT IN {LINE_KINDS} OR ST_Dimension(geom) = 1",
    )
    op.drop_column("projects", "position_only")
