"""Import jobs: the import page's checks and imports run by a worker outside the web server.

Revision ID: job1
Revises: wd1
Create Date: 2026-12-13 09:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "job1"
down_revision = "wd1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column(
            "options",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("rows_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('check', 'import')", name=op.f("ck_import_jobs_kind")),
        sa.CheckConstraint(
            "state IN ('done', 'expired', 'failed', 'queued', 'running')",
            name=op.f("ck_import_jobs_state"),
        ),
        sa.CheckConstraint(
            "stage IS NULL OR stage IN ('checking', 'reading', 'writing')",
            name=op.f("ck_import_jobs_stage"),
        ),
        sa.CheckConstraint("rows_done >= 0", name=op.f("ck_import_jobs_rows_done")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_import_jobs_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index(op.f("ix_import_jobs_owner_id"), "import_jobs", ["owner_id"])
    op.create_index(
        "ix_import_jobs_queued", "import_jobs", ["id"], postgresql_where=sa.text("state = 'queued'")
    )


def downgrade() -> None:
    op.drop_table("import_jobs")
