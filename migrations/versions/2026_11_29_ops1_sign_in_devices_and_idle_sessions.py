"""Sign-in attempts from known browsers, and when each sign-in session was last used.

Revision ID: ops1
Revises: imp1
Create Date: 2026-11-29 05:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "ops1"
down_revision = "imp1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A browser that signed in before carries a device id; its tries are counted apart
    # from the account's, so guesses from elsewhere cannot lock its owner out.
    op.add_column("login_attempts", sa.Column("device", sa.Text(), nullable=True))
    op.create_index("ix_login_attempts_device_at", "login_attempts", ["device", "at"])
    # Admin sessions end after a while without use.
    op.add_column(
        "login_sessions",
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("login_sessions", "last_seen_at")
    op.drop_index("ix_login_attempts_device_at", table_name="login_attempts")
    op.drop_column("login_attempts", "device")
