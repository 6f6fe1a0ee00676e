"""Alert links per purpose and addresses counted once: each subscription gets a link nonce
and its address's canonical form; a mail may carry a new link to a subscription's settings.

Revision ID: al1
Revises: job1
Create Date: 2026-12-06 06:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "al1"
down_revision = "job1"
branch_labels = None
depends_on = None

# The same form as tracker.alerts.addresses.canonical_address, for the rows already there:
# lower case, no "+tag" (unless that leaves nothing), and Gmail's dots dropped.
CANONICAL = """
UPDATE alert_subscriptions AS s SET email_canonical =
    CASE WHEN parts.domain IN ('gmail.com', 'googlemail.com')
         THEN coalesce(nullif(replace(parts.local, '.', ''), ''), parts.local) || '@gmail.com'
         ELSE parts.local || '@' || parts.domain END
FROM (
    SELECT id,
           coalesce(nullif(split_part(lower(split_part(email, '@', 1)), '+', 1), ''),
                    lower(split_part(email, '@', 1))) AS local,
           lower(split_part(email, '@', 2)) AS domain
    FROM alert_subscriptions
) AS parts
WHERE parts.id = s.id
"""


def upgrade() -> None:
    op.add_column("alert_subscriptions", sa.Column("email_canonical", sa.Text(), nullable=True))
    op.execute(CANONICAL)
    op.alter_column("alert_subscriptions", "email_canonical", nullable=False)
    op.drop_index(op.f("ix_alert_subscriptions_email"), table_name="alert_subscriptions")
    op.create_index(
        op.f("ix_alert_subscriptions_email_canonical"), "alert_subscriptions", ["email_canonical"]
    )
    # A volatile default: every row already there gets its own nonce.
    op.add_column(
        "alert_subscriptions",
        sa.Column(
            "link_nonce",
            sa.Text(),
            server_default=sa.text("left(md5(gen_random_uuid()::text), 16)"),
            nullable=False,
        ),
    )
    op.drop_constraint(op.f("ck_alert_deliveries_event"), "alert_deliveries", type_="check")
    op.drop_constraint(op.f("ck_alert_deliveries_kind"), "alert_deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_alert_deliveries_event"),
        "alert_deliveries",
        "(kind IN ('confirm', 'manage')) = (event_id IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_alert_deliveries_kind"),
        "alert_deliveries",
        "kind IN ('alert', 'confirm', 'manage')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM alert_deliveries WHERE kind = 'manage'")
    op.drop_constraint(op.f("ck_alert_deliveries_kind"), "alert_deliveries", type_="check")
    op.drop_constraint(op.f("ck_alert_deliveries_event"), "alert_deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_alert_deliveries_kind"), "alert_deliveries", "kind IN ('alert', 'confirm')"
    )
    op.create_check_constraint(
        op.f("ck_alert_deliveries_event"),
        "alert_deliveries",
        "(kind = 'confirm') = (event_id IS NULL)",
    )
    op.drop_column("alert_subscriptions", "link_nonce")
    op.drop_index(
        op.f("ix_alert_subscriptions_email_canonical"), table_name="alert_subscriptions"
    )
    op.drop_column("alert_subscriptions", "email_canonical")
    op.create_index(op.f("ix_alert_subscriptions_email"), "alert_subscriptions", ["email"])
