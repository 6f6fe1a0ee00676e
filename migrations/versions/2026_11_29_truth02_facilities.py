"""designated shelters become facilities: places, not works

The GSI designated shelters were loaded as completed 'shelter' projects, so every count
of works, coverage, the changes list, the feed and as_of views counted them. They move to
their own table. Each facility keeps, in its first facility_changes row, the project it
was and that project's status history, so nothing is lost; the project rows leave.
A shelter project on which people recorded work (an update, an edit, a photo, a traffic
restriction) stays a project, linked to its new facility.

Revision ID: truth02
Revises: truth01
Create Date: 2026-11-29 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "truth02"
down_revision = "truth01"
branch_labels = None
depends_on = None

SOURCE = "出典：国土地理院（指定緊急避難場所・指定避難所データ）"
# The sentence the shelter loader appended to a description when the GSI position
# disagreed with the prefecture's portal; the loader's file calls it this.
PORTAL_SENTENCE = "位置は県の防災情報ポータルと一致しないため現地確認が必要"
PORTAL_NOTE = "coordinates disagree with the prefecture portal; verify on site"

MOVE = f"""
INSERT INTO facilities (gsi_common_id, name, address, designations, position_note, source,
                        geom, created_at, updated_at)
SELECT p.gsi_common_id, p.name, p.address, ARRAY['shelter'],
       CASE WHEN p.description LIKE '%{PORTAL_SENTENCE}%' THEN '{PORTAL_NOTE}' ELSE '' END,
       '{SOURCE}', ST_PointOnSurface(p.geom), p.created_at, p.updated_at
FROM projects p
WHERE p.gsi_common_id IS NOT NULL
ORDER BY p.id;

INSERT INTO facility_changes (facility_id, recorded_at, action, changes, source)
SELECT f.id, p.created_at, 'create',
       jsonb_build_object('moved_from_project', jsonb_build_object(
           'id', p.id, 'name', p.name, 'kind', p.kind, 'status', p.status,
           'progress', p.progress, 'department', p.department,
           'description', p.description, 'created_at', p.created_at,
           'plan_items', (SELECT coalesce(jsonb_agg(i.code ORDER BY i.code), '[]'::jsonb)
                          FROM project_plan_items l JOIN plan_items i ON i.id = l.plan_item_id
                          WHERE l.project_id = p.id),
           'history', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'observed_at', u.observed_at, 'recorded_at', u.recorded_at,
                                'previous_status', u.previous_status, 'status', u.status,
                                'progress', u.progress, 'note', u.note, 'author_id', u.author_id)
                            ORDER BY u.observed_at, u.id), '[]'::jsonb)
                       FROM status_updates u WHERE u.project_id = p.id))),
       'migration truth02'
FROM projects p JOIN facilities f ON f.gsi_common_id = p.gsi_common_id;

UPDATE projects p SET facility_id = f.id
FROM facilities f WHERE f.gsi_common_id = p.gsi_common_id;
"""

# Loader-made shelter projects hold no one's work: they leave the projects table (their
# history goes with them, kept above). Their audit rows name them without a cascade.
LOADED_ONLY = """
CREATE TEMPORARY TABLE moved_shelters ON COMMIT DROP AS
SELECT p.id FROM projects p
WHERE p.gsi_common_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM status_updates u
                  WHERE u.project_id = p.id AND u.author_id IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM status_updates u JOIN photos ph ON ph.update_id = u.id
                  WHERE u.project_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM project_changes c
                  WHERE c.project_id = p.id AND c.user_id IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM traffic_restrictions r WHERE r.project_id = p.id);

DELETE FROM project_changes WHERE project_id IN (SELECT id FROM moved_shelters);
DELETE FROM projects WHERE id IN (SELECT id FROM moved_shelters);
"""


def upgrade() -> None:
    op.create_geospatial_table(
        "facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gsi_common_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("designations", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("hazards", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("position_note", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "cardinality(designations) > 0 AND designations <@ "
            "ARRAY['emergency_site', 'shelter']::text[]",
            name=op.f("ck_facilities_designations"),
        ),
        sa.CheckConstraint(
            "hazards <@ ARRAY['earthquake', 'fire', 'flood', 'inland_flood', 'landslide', "
            "'storm_surge', 'tsunami', 'volcano']::text[]",
            name=op.f("ck_facilities_hazards"),
        ),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_facilities_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
        sa.UniqueConstraint("gsi_common_id", name=op.f("uq_facilities_gsi_common_id")),
    )
    op.create_geospatial_index(
        "idx_facilities_geom",
        "facilities",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "facility_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'withdraw')", name=op.f("ck_facility_changes_action")
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facilities.id"],
            name=op.f("fk_facility_changes_facility_id_facilities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_changes")),
    )
    op.create_index(
        op.f("ix_facility_changes_facility_id"), "facility_changes", ["facility_id"]
    )
    op.add_column("projects", sa.Column("facility_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_projects_facility_id_facilities"),
        "projects",
        "facilities",
        ["facility_id"],
        ["id"],
    )
    op.create_index(op.f("ix_projects_facility_id"), "projects", ["facility_id"])

    op.execute(MOVE)
    op.execute(LOADED_ONLY)
    op.drop_constraint(op.f("uq_projects_gsi_common_id"), "projects", type_="unique")
    op.drop_column("projects", "gsi_common_id")


def downgrade() -> None:
    # The facilities do not become projects again: the earlier loader (flask load-data)
    # loads them as shelter projects from geodata/ once this has run.
    op.add_column("projects", sa.Column("gsi_common_id", sa.Text(), nullable=True))
    op.create_unique_constraint(op.f("uq_projects_gsi_common_id"), "projects", ["gsi_common_id"])
    op.drop_index(op.f("ix_projects_facility_id"), table_name="projects")
    op.drop_constraint(op.f("fk_projects_facility_id_facilities"), "projects", type_="foreignkey")
    op.drop_column("projects", "facility_id")
    op.drop_index(op.f("ix_facility_changes_facility_id"), table_name="facility_changes")
    op.drop_table("facility_changes")
    op.drop_geospatial_index(
        "idx_facilities_geom", table_name="facilities", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("facilities")
