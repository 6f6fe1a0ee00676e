"""Traffic restriction table: what a work does to the roads, and when."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import Base
from tracker.projects.models import Project
from tracker.vocab import RESTRICTION_KINDS, sql_list

DESCRIPTION_MAX = 200


class TrafficRestriction(Base):
    """A restriction on traffic caused by a project, public as soon as it is recorded."""

    __tablename__ = "traffic_restrictions"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(RESTRICTION_KINDS)}", name="kind"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
        CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="description"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date]
    # None: until further notice.
    ends_on: Mapped[date | None]
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set when staff lift the restriction early; the announced dates stay as they were.
    ended_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()

    def applies_on(self, day: date) -> bool:
        """Tell whether the restriction is in force on the day."""
        return (
            self.ended_at is None
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )
