"""external ids on projects; hazard layers and zones

Revision ID: imp1
Revises: ogc1
Create Date: 2026-11-29 05:15:00
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "imp1"
down_revision = "ogc1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("external_id", sa.Text(), nullable=True))
    op.create_unique_constraint(op.f("uq_projects_external_id"), "projects", ["external_id"])
    op.create_table(
        "hazard_layers",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("zone_count", sa.Integer(), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("layer IN ('flood', 'sediment')", name=op.f("ck_hazard_layers_layer")),
        sa.PrimaryKeyConstraint("layer", name=op.f("pk_hazard_layers")),
    )
    op.create_table(
        "hazard_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("hazard", sa.Text(), nullable=False),
        sa.Column("zone_class", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "hazard IN ('debris_flow', 'flood', 'landslide', 'steep_slope')",
            name=op.f("ck_hazard_zones_hazard"),
        ),
        sa.ForeignKeyConstraint(
            ["layer"],
            ["hazard_layers.layer"],
            name=op.f("fk_hazard_zones_layer_hazard_layers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_zones")),
    )
    op.create_index(op.f("ix_hazard_zones_layer"), "hazard_zones", ["layer"])
    op.create_index(op.f("ix_hazard_zones_hazard"), "hazard_zones", ["hazard"])
    op.create_index(
        "idx_hazard_zones_geom", "hazard_zones", ["geom"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("idx_hazard_zones_geom", table_name="hazard_zones", postgresql_using="gist")
    op.drop_index(op.f("ix_hazard_zones_hazard"), table_name="hazard_zones")
    op.drop_index(op.f("ix_hazard_zones_layer"), table_name="hazard_zones")
    op.drop_table("hazard_zones")
    op.drop_table("hazard_layers")
    op.drop_constraint(op.f("uq_projects_external_id"), "projects", type_="unique")
    op.drop_column("projects", "external_id")
