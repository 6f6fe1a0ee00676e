"""Residents' damage reports: categories, reports, photos, state history, mails, intake log,
Open311 keys.

Revision ID: rp1
Revises: fd1
Create Date: 2026-12-14 09:00:00
"""

from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry


revision = "rp1"
down_revision = "fd1"
branch_labels = None
depends_on = None

CATEGORIES = (
    ("road", "道路の陥没・損傷", "Sunken or damaged road"),
    ("slope", "落石・土砂崩れ", "Rockfall or landslide"),
    ("tree", "倒木", "Fallen tree"),
    ("flooding", "冠水・排水不良", "Flooding or poor drainage"),
    ("structure", "橋・ガードレール・標識の損傷", "Damaged bridge, guard rail or sign"),
    ("river", "河川・水路の損傷", "Damaged river or channel"),
    ("other", "その他", "Other"),
)
STATES = "('received', 'checking', 'in_progress', 'done', 'declined')"


def upgrade() -> None:
    categories = op.create_table(
        "report_categories",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name_ja", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("position", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_report_categories")),
    )
    op.bulk_insert(
        categories,
        [
            {"code": code, "name_ja": ja, "name_en": en, "position": i}
            for i, (code, ja, en) in enumerate(CATEGORIES)
        ],
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.Text(), nullable=False),
        sa.Column(
            "geom", Geometry(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False
        ),
        sa.Column("place_key", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_nonce", sa.Text(), nullable=False),
        sa.Column("lang", sa.Text(), server_default="ja", nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("client_id", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), server_default="web", nullable=False),
        sa.Column("state", sa.Text(), server_default="received", nullable=False),
        sa.Column(
            "state_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("is_public", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("public_answer", sa.Text(), server_default="", nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"state IN {STATES}", name=op.f("ck_reports_state")),
        sa.CheckConstraint("channel IN ('web', 'open311')", name=op.f("ck_reports_channel")),
        sa.CheckConstraint(
            "duplicate_of IS NULL OR duplicate_of <> id", name=op.f("ck_reports_not_own_duplicate")
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["report_categories.code"],
            name=op.f("fk_reports_category_code_report_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_reports_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["reports.id"],
            name=op.f("fk_reports_duplicate_of_reports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("client_id", name=op.f("uq_reports_client_id")),
    )
    op.create_index(op.f("ix_reports_category_code"), "reports", ["category_code"])
    op.create_index(op.f("ix_reports_department"), "reports", ["department"])
    op.create_index(op.f("ix_reports_project_id"), "reports", ["project_id"])
    op.create_index(op.f("ix_reports_duplicate_of"), "reports", ["duplicate_of"])
    op.execute("CREATE INDEX ix_reports_geog ON reports USING gist ((geom::geography))")

    op.create_table(
        "report_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumb", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_photos_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_photos")),
    )
    op.create_index(op.f("ix_report_photos_report_id"), "report_photos", ["report_id"])

    op.create_table(
        "report_state_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("previous_state", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"state IN {STATES}", name=op.f("ck_report_state_changes_state")),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_state_changes_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_report_state_changes_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_state_changes")),
    )
    op.create_index(
        op.f("ix_report_state_changes_report_id"), "report_state_changes", ["report_id"]
    )

    op.create_table(
        "report_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("state_change_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), server_default="waiting", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('confirm', 'state')", name=op.f("ck_report_mails_kind")),
        sa.CheckConstraint(
            "status IN ('waiting', 'sent', 'failed')", name=op.f("ck_report_mails_status")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_mails_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["state_change_id"],
            ["report_state_changes.id"],
            name=op.f("fk_report_mails_state_change_id_report_state_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_mails")),
        sa.UniqueConstraint("state_change_id", name=op.f("uq_report_mails_state_change_id")),
    )
    op.create_index(op.f("ix_report_mails_report_id"), "report_mails", ["report_id"])

    op.create_table(
        "report_intake_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("device_key", sa.Text(), nullable=False),
        sa.Column("client_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_intake_log")),
    )
    op.create_index(op.f("ix_report_intake_log_at"), "report_intake_log", ["at"])
    op.create_index(op.f("ix_report_intake_log_device_key"), "report_intake_log", ["device_key"])
    op.create_index(op.f("ix_report_intake_log_client_key"), "report_intake_log", ["client_key"])

    op.create_table(
        "open311_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_open311_keys_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_keys_key_hash")),
    )


def downgrade() -> None:
    op.drop_table("open311_keys")
    op.drop_table("report_intake_log")
    op.drop_table("report_mails")
    op.drop_table("report_state_changes")
    op.drop_table("report_photos")
    op.drop_table("reports")
    op.drop_table("report_categories")
