"""Alert subscriptions, the mails queued for them, and the request log behind the rate limits.

An address is kept only in alert_subscriptions, for the one subscription it asked for (as
typed, and in the canonical form the limits count); deleting the subscription deletes it.
Queued and sent mails keep no address.
"""

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.alerts.tokens import new_link_nonce
from tracker.city.places import RADIUS_CHOICES
from tracker.core.db import Base, stamp_now
from tracker.words.i18n import LANGUAGES
from tracker.words.vocab import N_, sql_list

# What a subscriber can choose to hear about.
TOPICS = {
    "restrictions": N_("通行規制の開始・変更・解除"),
    "start_finish": N_("工事の開始と完了"),
    "status": N_("工事の状況の変化すべて"),
}
# How often: restrictions matter for today's trip, so by default they go at once and the
# rest waits for one morning mail.
FREQUENCIES = {
    "standard": N_("通行規制はすぐに、そのほかは1日1回まとめて"),
    "immediate": N_("すべてその都度すぐに"),
    "daily": N_("すべて1日1回まとめて"),
}
MAX_EMAIL_LENGTH = 254

# confirm: the one mail of an unconfirmed subscription; manage: a new link to its settings,
# asked for from an expired link; alert: one change (alone or in a digest).
DELIVERY_KINDS = frozenset({"confirm", "manage", "alert"})
# The kinds that tell of no event.
LINK_KINDS = ("confirm", "manage")
# waiting: to be sent at due_at; sent; failed: refused for good or too often;
# cancelled: no longer to be told (the project became staff-only).
DELIVERY_STATUSES = frozenset({"waiting", "sent", "failed", "cancelled"})


class AlertSubscription(Base):
    """One address's wish to hear about an area or one project; live once confirmed."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (
        CheckConstraint(f"lang IN {sql_list(LANGUAGES)}", name="lang"),
        CheckConstraint(f"frequency IN {sql_list(FREQUENCIES)}", name="frequency"),
        CheckConstraint("(project_id IS NULL) <> (geom IS NULL)", name="target"),
        CheckConstraint(
            f"geom IS NULL OR radius_m BETWEEN {min(RADIUS_CHOICES)} AND {max(RADIUS_CHOICES)}",
            name="radius",
        ),
        CheckConstraint("wants_restrictions OR wants_start_finish OR wants_status", name="topics"),
        CheckConstraint(f"char_length(email) <= {MAX_EMAIL_LENGTH}", name="email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Where mails go: the address as it was typed.
    email: Mapped[str] = mapped_column(Text)
    # What the per-address limits and "one subscription per address and place" compare:
    # tracker.alerts.addresses.canonical_address of the address.
    email_canonical: Mapped[str] = mapped_column(Text, index=True)
    # Carried by every link of this subscription (tracker.alerts.tokens): the links name this
    # row, and die with it.
    link_nonce: Mapped[str] = mapped_column(
        Text, default=new_link_nonce, server_default=text("left(md5(gen_random_uuid()::text), 16)")
    )
    lang: Mapped[str] = mapped_column(Text)
    # Either one project ("this work") or a circle around a point.
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    radius_m: Mapped[int | None]
    # The listed place the circle was chosen from, which names it in mails.
    place_key: Mapped[str | None] = mapped_column(Text)
    wants_restrictions: Mapped[bool]
    wants_start_finish: Mapped[bool]
    wants_status: Mapped[bool]
    frequency: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # None until the link in the confirmation mail is followed; nothing else is sent before.
    confirmed_at: Mapped[datetime | None]

    @property
    def topics(self) -> list[str]:
        """Return the chosen topics' codes."""
        chosen = {
            "restrictions": self.wants_restrictions,
            "start_finish": self.wants_start_finish,
            "status": self.wants_status,
        }
        return [code for code in TOPICS if chosen[code]]


# Matching a change to the circles around it reads this index, as the nearby search does.
Index(
    "ix_alert_subscriptions_geog",
    literal_column("(geom)::geography"),
    postgresql_using="gist",
    _table=AlertSubscription.__table__,
)
Index(
    "ix_alert_subscriptions_pending",
    AlertSubscription.created_at,
    postgresql_where=AlertSubscription.confirmed_at.is_(None),
)


class AlertDelivery(Base):
    """One change (or the confirmation request) to tell one subscription; a digest mail
    carries several. The unique pair is what keeps an event from reaching anyone twice."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(DELIVERY_KINDS)}", name="kind"),
        CheckConstraint(f"status IN {sql_list(DELIVERY_STATUSES)}", name="status"),
        CheckConstraint(f"(kind IN {sql_list(LINK_KINDS)}) = (event_id IS NULL)", name="event"),
        UniqueConstraint("subscription_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Emptied when the subscription is deleted: counts of sent mails stay, the address goes.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_subscriptions.id", ondelete="SET NULL")
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    digest: Mapped[bool] = mapped_column(server_default="false")
    status: Mapped[str] = mapped_column(Text, server_default="waiting")
    # When to send; moved later after a temporary refusal.
    due_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(index=True)


# The senders walk the waiting rows in id order.
Index(
    "ix_alert_deliveries_waiting",
    AlertDelivery.id,
    postgresql_where=text("status = 'waiting'"),
)


class AlertRequest(Base):
    """One subscription request, kept a day for the rate limits; the address only as a keyed
    hash, so that the log tells nothing about who asked."""

    __tablename__ = "alert_requests"
    __table_args__ = (
        Index("ix_alert_requests_address_key_at", "address_key", "at"),
        Index("ix_alert_requests_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    address_key: Mapped[str] = mapped_column(Text)
    client: Mapped[str] = mapped_column(Text)
