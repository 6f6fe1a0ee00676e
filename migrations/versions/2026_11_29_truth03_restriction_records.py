"""traffic restrictions as records of their own: section and detour lines, days and hours,
reason and contact, more kinds, a version for stale edits, and a history

Restrictions recorded before have no section of their own (they are shown where their
project is) and get their history from what is known: added when created, lifted when
ended.

Revision ID: truth03
Revises: truth02
Create Date: 2026-11-29 11:00:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "truth03"
down_revision = "truth02"
branch_labels = None
depends_on = None

KINDS = (
    "kind IN ('alternating', 'closed', 'detour', 'heavy_vehicles', 'lane', 'other', "
    "'pedestrian')"
)
OLD_KINDS = "kind IN ('alternating', 'closed', 'detour', 'lane', 'other')"
LINES = "('LINESTRING', 'MULTILINESTRING')"

HISTORY = """
INSERT INTO restriction_changes (restriction_id, user_id, recorded_at, action, changes, version)
SELECT r.id, NULL, r.created_at, 'create',
       jsonb_build_object(
           'kind', jsonb_build_object('old', NULL, 'new', r.kind),
           'starts_on', jsonb_build_object('old', NULL, 'new', r.starts_on),
           'ends_on', jsonb_build_object('old', NULL, 'new', r.ends_on),
           'description', jsonb_build_object('old', NULL, 'new', r.description)),
       1
FROM traffic_restrictions r;

INSERT INTO restriction_changes (restriction_id, user_id, recorded_at, action, changes, version)
SELECT r.id, NULL, r.ended_at, 'lift',
       jsonb_build_object('ended_at', jsonb_build_object('old', NULL, 'new', r.ended_at)), 1
FROM traffic_restrictions r WHERE r.ended_at IS NOT NULL;
"""


def _line(name: str):
    return sa.Column(
        name,
        Geometry(
            srid=4326,
            dimension=2,
            spatial_index=False,
            from_text="ST_GeomFromEWKT",
            name="geometry",
        ),
        nullable=True,
    )


def upgrade() -> None:
    table = "traffic_restrictions"
    op.add_column(table, sa.Column("days", sa.Text(), server_default="every_day", nullable=False))
    op.add_column(table, sa.Column("time_from", sa.Time(), nullable=True))
    op.add_column(table, sa.Column("time_until", sa.Time(), nullable=True))
    op.add_column(table, sa.Column("reason", sa.Text(), server_default="", nullable=False))
    op.add_column(table, sa.Column("contact", sa.Text(), server_default="", nullable=False))
    op.add_column(table, _line("geom"))
    op.add_column(table, _line("detour_geom"))
    op.add_column(
        table,
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.execute("UPDATE traffic_restrictions SET updated_at = coalesce(ended_at, created_at)")
    op.create_geospatial_index(
        "idx_traffic_restrictions_geom",
        table,
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.drop_constraint(op.f("ck_traffic_restrictions_kind"), table, type_="check")
    op.create_check_constraint(op.f("ck_traffic_restrictions_kind"), table, KINDS)
    op.create_check_constraint(
        op.f("ck_traffic_restrictions_days"), table, "days IN ('every_day', 'weekdays', 'weekends')"
    )
    op.create_check_constraint(
        op.f("ck_traffic_restrictions_hours"),
        table,
        "(time_from IS NULL AND time_until IS NULL) OR time_from <> time_until",
    )
    op.create_check_constraint(
        op.f("ck_traffic_restrictions_section"),
        table,
        f"GeometryType(geom) IN {LINES} AND ST_IsValid(geom)",
    )
    op.create_check_constraint(
        op.f("ck_traffic_restrictions_detour"),
        table,
        f"GeometryType(detour_geom) IN {LINES} AND ST_IsValid(detour_geom)",
    )
    op.create_check_constraint(
        op.f("ck_traffic_restrictions_texts"),
        table,
        "char_length(reason) <= 200 AND char_length(contact) <= 200",
    )

    op.create_table(
        "restriction_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("restriction_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'lift')", name=op.f("ck_restriction_changes_action")
        ),
        sa.ForeignKeyConstraint(
            ["restriction_id"],
            ["traffic_restrictions.id"],
            name=op.f("fk_restriction_changes_restriction_id_traffic_restrictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_restriction_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restriction_changes")),
    )
    op.create_index(
        op.f("ix_restriction_changes_restriction_id"), "restriction_changes", ["restriction_id"]
    )
    op.create_index(
        op.f("ix_restriction_changes_recorded_at"), "restriction_changes", ["recorded_at"]
    )
    op.execute(HISTORY)


def downgrade() -> None:
    table = "traffic_restrictions"
    op.drop_index(op.f("ix_restriction_changes_recorded_at"), table_name="restriction_changes")
    op.drop_index(op.f("ix_restriction_changes_restriction_id"), table_name="restriction_changes")
    op.drop_table("restriction_changes")
    for name in ("texts", "detour", "section", "hours", "days"):
        op.drop_constraint(op.f(f"ck_traffic_restrictions_{name}"), table, type_="check")
    # The kinds added since have no older name: they read as a general restriction.
    op.execute(
        "UPDATE traffic_restrictions SET kind = 'other' "
        "WHERE kind IN ('pedestrian', 'heavy_vehicles')"
    )
    op.drop_constraint(op.f("ck_traffic_restrictions_kind"), table, type_="check")
    op.create_check_constraint(op.f("ck_traffic_restrictions_kind"), table, OLD_KINDS)
    op.drop_geospatial_index(
        "idx_traffic_restrictions_geom",
        table_name=table,
        postgresql_using="gist",
        column_name="geom",
    )
    for column in (
        "version",
        "updated_at",
        "detour_geom",
        "geom",
        "contact",
        "reason",
        "time_until",
        "time_from",
        "days",
    ):
        op.drop_column(table, column)
