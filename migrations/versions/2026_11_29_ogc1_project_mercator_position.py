"""projects: Web Mercator position and size, for grouping small works in vector tiles

Revision ID: ogc1
Revises: 0007
Create Date: 2026-11-29 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "ogc1"
down_revision = "0007"
branch_labels = None
depends_on = None

# The same expressions as tracker/projects/models.py (Web Mercator metres of the bounding
# box's centre, and the box's larger side in Web Mercator metres).
CENTRE_LAT = "((ST_YMin(geom) + ST_YMax(geom)) / 2)"
COLUMNS = {
    "mercator_x": "(ST_XMin(geom) + ST_XMax(geom)) / 2 * 111319.49079327357",
    "mercator_y": f"ln(tan(pi() / 4 + radians({CENTRE_LAT}) / 2)) * 6378137.0",
    "mercator_size": (
        "greatest(ST_XMax(geom) - ST_XMin(geom),"
        f" (ST_YMax(geom) - ST_YMin(geom)) / cos(radians({CENTRE_LAT}))) * 111319.49079327357"
    ),
}


def upgrade() -> None:
    for name, expression in COLUMNS.items():
        op.add_column(
            "projects",
            sa.Column(name, sa.Double(), sa.Computed(expression, persisted=True), nullable=True),
        )
    # Tiles read small works by position and long ones by size.
    op.create_index("ix_projects_mercator_x", "projects", ["mercator_x", "mercator_y"])
    op.create_index(op.f("ix_projects_mercator_size"), "projects", ["mercator_size"])


def downgrade() -> None:
    op.drop_index(op.f("ix_projects_mercator_size"), table_name="projects")
    op.drop_index("ix_projects_mercator_x", table_name="projects")
    for name in reversed(COLUMNS):
        op.drop_column("projects", name)
