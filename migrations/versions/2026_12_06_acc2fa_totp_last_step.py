"""The last time-step a person's authenticator code was accepted at, so that a code works once.

Revision ID: acc2fa
Revises: smp1
Create Date: 2026-12-06 05:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "acc2fa"
down_revision = "smp1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "totp_last_step")
