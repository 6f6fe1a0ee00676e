"""The fields of a work's kind (a bridge's number and span, a revetment's length and bank),
entered from the site: one JSONB column, empty for the works already there.

Revision ID: fd1
Revises: fo1
Create Date: 2026-12-06 07:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "fd1"
down_revision = "fo1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("projects", "details")
