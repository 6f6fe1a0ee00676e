"""The outbox table: one row per public change, written by the operation that made it."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base, stamp_now
from tracker.words.vocab import sql_list

# What happened: a project's status changed, or a traffic restriction was added, changed
# or lifted. Progress-only updates and history loaded with its own past dates are not news.
EVENT_KINDS = frozenset(
    {"status", "restriction_added", "restriction_changed", "restriction_lifted"}
)
RESTRICTION_EVENTS = frozenset(k for k in EVENT_KINDS if k.startswith("restriction_"))


class OutboxEvent(Base):
    """A change committed with the row it describes; readers mark it handled, never delete it."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(EVENT_KINDS)}", name="kind"),
        # A status change points at its history entry, a restriction event at its own.
        CheckConstraint(
            "(kind = 'status') = (status_update_id IS NOT NULL)"
            " AND (kind = 'status') = (restriction_change_id IS NULL)",
            name="subject",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    status_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_updates.id", ondelete="CASCADE")
    )
    restriction_id: Mapped[int | None] = mapped_column(
        ForeignKey("traffic_restrictions.id", ondelete="CASCADE")
    )
    # The history entry of the restriction event: the mail says the restriction as it
    # stood then, and where it was before when its line moved.
    restriction_change_id: Mapped[int | None] = mapped_column(
        ForeignKey("restriction_changes.id", ondelete="CASCADE")
    )
    # What the reader needs to say what a status change was.
    details: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    occurred_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # Set once the alerts have been matched to it; unhandled events are the queue.
    handled_at: Mapped[datetime | None]


Index(
    "ix_outbox_events_unhandled",
    OutboxEvent.id,
    postgresql_where=OutboxEvent.handled_at.is_(None),
)
