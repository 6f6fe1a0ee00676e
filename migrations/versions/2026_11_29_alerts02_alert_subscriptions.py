"""e-mail alert subscriptions, their queued mails and the request log of the rate limits

Revision ID: alerts02
Revises: alerts01
Create Date: 2026-11-29 05:46:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "alerts02"
down_revision = "alerts01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_requests",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("address_key", sa.Text(), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_requests")),
    )
    op.create_index("ix_alert_requests_address_key_at", "alert_requests", ["address_key", "at"])
    op.create_index("ix_alert_requests_client_at", "alert_requests", ["client", "at"])

    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("lang", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
        sa.Column("radius_m", sa.Integer(), nullable=True),
        sa.Column("place_key", sa.Text(), nullable=True),
        sa.Column("wants_restrictions", sa.Boolean(), nullable=False),
        sa.Column("wants_start_finish", sa.Boolean(), nullable=False),
        sa.Column("wants_status", sa.Boolean(), nullable=False),
        sa.Column("frequency", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "frequency IN ('daily', 'immediate', 'standard')",
            name=op.f("ck_alert_subscriptions_frequency"),
        ),
        sa.CheckConstraint("lang IN ('en', 'ja')", name=op.f("ck_alert_subscriptions_lang")),
        sa.CheckConstraint(
            "(project_id IS NULL) <> (geom IS NULL)", name=op.f("ck_alert_subscriptions_target")
        ),
        sa.CheckConstraint(
            "char_length(email) <= 254", name=op.f("ck_alert_subscriptions_email")
        ),
        sa.CheckConstraint(
            "geom IS NULL OR radius_m BETWEEN 500 AND 3000",
            name=op.f("ck_alert_subscriptions_radius"),
        ),
        sa.CheckConstraint(
            "wants_restrictions OR wants_start_finish OR wants_status",
            name=op.f("ck_alert_subscriptions_topics"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_alert_subscriptions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
    )
    op.create_index(op.f("ix_alert_subscriptions_email"), "alert_subscriptions", ["email"])
    op.create_index(
        op.f("ix_alert_subscriptions_project_id"), "alert_subscriptions", ["project_id"]
    )
    # Matching a change to the circles around it reads this, as the nearby search reads
    # ix_projects_geog.
    op.execute(
        "CREATE INDEX ix_alert_subscriptions_geog ON alert_subscriptions"
        " USING gist ((geom::geography))"
    )
    op.create_index(
        "ix_alert_subscriptions_pending",
        "alert_subscriptions",
        ["created_at"],
        postgresql_where=sa.text("confirmed_at IS NULL"),
    )

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("digest", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status", sa.Text(), server_default="waiting", nullable=False),
        sa.Column(
            "due_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'confirm') = (event_id IS NULL)", name=op.f("ck_alert_deliveries_event")
        ),
        sa.CheckConstraint("kind IN ('alert', 'confirm')", name=op.f("ck_alert_deliveries_kind")),
        sa.CheckConstraint(
            "status IN ('cancelled', 'failed', 'sent', 'waiting')",
            name=op.f("ck_alert_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outbox_events.id"],
            name=op.f("fk_alert_deliveries_event_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["alert_subscriptions.id"],
            name=op.f("fk_alert_deliveries_subscription_id_alert_subscriptions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_alert_deliveries_subscription_id")
        ),
    )
    op.create_index(op.f("ix_alert_deliveries_finished_at"), "alert_deliveries", ["finished_at"])
    op.create_index(
        "ix_alert_deliveries_waiting",
        "alert_deliveries",
        ["id"],
        postgresql_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_subscriptions")
    op.drop_table("alert_requests")
