"""Traffic restriction tables: what a work does to the roads, where, when, and its history."""

from datetime import date, datetime, time
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.accounts.models import User
from tracker.core.db import Base, stamp_now
from tracker.projects.models import Project
from tracker.restrictions import schedule
from tracker.words.vocab import RESTRICTION_DAYS, RESTRICTION_KINDS, sql_list

DESCRIPTION_MAX = 200
TEXT_MAX = 200
RESTRICTION_ACTIONS = ("create", "update", "lift")
LINES = "('LINESTRING', 'MULTILINESTRING')"


class TrafficRestriction(Base):
    """A restriction on traffic caused by a project, public as soon as it is recorded.

    `geom` is the closed or narrowed section and `detour_geom` the way round, both lines;
    a restriction without a section of its own is shown where its project is.
    """

    __tablename__ = "traffic_restrictions"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(RESTRICTION_KINDS)}", name="kind"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
        CheckConstraint(f"char_length(description) <= {DESCRIPTION_MAX}", name="description"),
        CheckConstraint(f"days IN {sql_list(RESTRICTION_DAYS)}", name="days"),
        CheckConstraint(
            "(time_from IS NULL AND time_until IS NULL) OR time_from <> time_until",
            name="hours",
        ),
        CheckConstraint(f"GeometryType(geom) IN {LINES} AND ST_IsValid(geom)", name="section"),
        CheckConstraint(
            f"GeometryType(detour_geom) IN {LINES} AND ST_IsValid(detour_geom)", name="detour"
        ),
        CheckConstraint(
            f"char_length(reason) <= {TEXT_MAX} AND char_length(contact) <= {TEXT_MAX}",
            name="texts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date]
    # None: until further notice.
    ends_on: Mapped[date | None]
    # The hours it holds each day on `days`; none: all day.
    days: Mapped[str] = mapped_column(Text, server_default="every_day")
    time_from: Mapped[time | None]
    time_until: Mapped[time | None]
    description: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, server_default="")
    contact: Mapped[str] = mapped_column(Text, server_default="")
    geom: Mapped[WKBElement | None] = mapped_column(Geometry(srid=4326, spatial_index=True))
    detour_geom: Mapped[WKBElement | None] = mapped_column(Geometry(srid=4326, spatial_index=False))
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # Set when staff lift the restriction early; the announced dates stay as they were.
    ended_at: Mapped[datetime | None]
    # Bumped on every change: a form saved against an older one is refused.
    version: Mapped[int] = mapped_column(server_default="1")

    project: Mapped[Project] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def applies_on(self, day: date) -> bool:
        """Tell whether the restriction holds on the day: one of its days, not lifted."""
        return schedule.applies_on(self, day)

    def in_force_at(self, at: datetime) -> bool:
        """Tell whether the restriction is in force at the instant (its days and hours)."""
        return schedule.in_force_at(self, at)

    def next_in_force_at(self, at: datetime) -> datetime | None:
        """Return when after `at` the restriction next comes into force, if it does."""
        return schedule.next_in_force_at(self, at)


class RestrictionChange(Base):
    """One event of a restriction's history: added, changed or lifted, by whom, and how."""

    __tablename__ = "restriction_changes"
    __table_args__ = (CheckConstraint("action IN ('create', 'update', 'lift')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    restriction_id: Mapped[int] = mapped_column(
        ForeignKey("traffic_restrictions.id", ondelete="CASCADE"), index=True
    )
    # None for loaders and migrations.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(
        default=stamp_now, server_default=func.now(), index=True
    )
    action: Mapped[str] = mapped_column(Text)
    # Each changed field's old and new value (geometries as GeoJSON).
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The restriction's version once this change was applied.
    version: Mapped[int]

    user: Mapped[User | None] = relationship()
    restriction: Mapped[TrafficRestriction] = relationship()
