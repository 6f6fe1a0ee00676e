"""Accounts managed from the browser: e-mail, departments, second factors, one-time links,
named API tokens with an expiry, and the audit of account changes.

Revision ID: acc1
Revises: ogc2
Create Date: 2026-12-06 03:30:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "acc1"
down_revision = "ogc2"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _stamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=None if nullable else NOW,
        nullable=nullable,
    )  # fmt: skip


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("language", sa.Text(), server_default="ja", nullable=False))
    op.add_column("users", _stamp("last_sign_in_at", nullable=True))
    op.add_column("users", _stamp("password_changed_at", nullable=True))
    op.add_column("users", sa.Column("totp_secret", sa.Text(), nullable=True))
    op.create_check_constraint(op.f("ck_users_language"), "users", "language IN ('ja', 'en')")
    op.create_index("ix_users_email", "users", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        _stamp("created_at"),
    )
    # The departments the works already name.
    op.execute(
        "INSERT INTO departments (name) SELECT DISTINCT department FROM projects"
        " WHERE department <> '' ORDER BY 1"
    )
    op.create_table(
        "user_departments",
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "department_id", sa.Integer(), sa.ForeignKey("departments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )  # fmt: skip
    # Staff who could change every work keep doing so until an admin names their departments.
    op.execute(
        "INSERT INTO user_departments (user_id, department_id)"
        " SELECT users.id, departments.id FROM users CROSS JOIN departments"
        " WHERE users.role = 'staff'"
    )

    op.add_column("api_tokens", sa.Column("name", sa.Text(), server_default="", nullable=False))
    op.add_column("api_tokens", _stamp("expires_at", nullable=True))
    op.add_column("api_tokens", _stamp("last_used_at", nullable=True))
    op.add_column(
        "login_sessions", sa.Column("user_agent", sa.Text(), server_default="", nullable=False)
    )
    op.add_column(
        "login_sessions", sa.Column("address", sa.Text(), server_default="", nullable=False)
    )

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False, index=True,
        ),
        sa.Column("code_hash", sa.Text(), nullable=False),
        _stamp("created_at"),
        _stamp("used_at", nullable=True),
    )  # fmt: skip
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False, index=True,
        ),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        _stamp("created_at"),
        _stamp("last_used_at", nullable=True),
    )  # fmt: skip
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False, index=True,
        ),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False, unique=True),
        _stamp("created_at"),
        _stamp("expires_at"),
        _stamp("used_at", nullable=True),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name=op.f("ck_account_links_purpose")),
    )  # fmt: skip
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _stamp("at"),
        sa.Column(
            "actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True, index=True,
        ),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column(
            "detail", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )  # fmt: skip
    op.create_index("ix_account_events_at", "account_events", ["at"])


def downgrade() -> None:
    op.drop_table("account_events")
    op.drop_table("account_links")
    op.drop_table("passkeys")
    op.drop_table("recovery_codes")
    op.drop_column("login_sessions", "address")
    op.drop_column("login_sessions", "user_agent")
    op.drop_column("api_tokens", "last_used_at")
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("api_tokens", "name")
    op.drop_table("user_departments")
    op.drop_table("departments")
    op.drop_index("ix_users_email", table_name="users")
    op.drop_constraint(op.f("ck_users_language"), "users")
    for column in ("totp_secret", "password_changed_at", "last_sign_in_at", "language", "email"):
        op.drop_column("users", column)
