"""Project and status history tables."""

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.accounts.models import User
from tracker.db import Base
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.vocab import KINDS, LINE_KINDS, STATUSES


def sql_list(values) -> str:
    """Return values as an SQL list literal for a CHECK constraint: ('a', 'b')."""
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


project_plan_items = Table(
    "project_plan_items",
    Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("plan_item_id", ForeignKey("plan_items.id"), primary_key=True),
)

project_indicators = Table(
    "project_indicators",
    Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicators.id"), primary_key=True),
)


class Project(Base):
    """A geolocated recovery or preparedness work."""

    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(KINDS)}", name="kind"),
        CheckConstraint(f"status IN {sql_list(STATUSES)}", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        CheckConstraint(
            f"kind NOT IN {sql_list(LINE_KINDS)} OR ST_Dimension(geom) = 1", name="line_kinds"
        ),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="planned")
    progress: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[date | None]
    actual_end: Mapped[date | None]
    department: Mapped[str] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(server_default="true")
    description: Mapped[str] = mapped_column(Text, server_default="")
    address: Mapped[str | None] = mapped_column(Text)
    gsi_common_id: Mapped[str | None] = mapped_column(Text, unique=True)
    # The city's own number for the work (事業番号): a re-imported file updates the same project.
    external_id: Mapped[str | None] = mapped_column(Text, unique=True)
    is_sample: Mapped[bool] = mapped_column(server_default="false")
    geom = mapped_column(Geometry(srid=4326, spatial_index=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Bumped on every change; the API's ETag, so that no edit silently overwrites another.
    version: Mapped[int] = mapped_column(server_default="1")

    plan_items: Mapped[list[PlanItem]] = relationship(
        secondary=project_plan_items, order_by=PlanItem.code
    )
    indicators: Mapped[list[Indicator]] = relationship(
        secondary=project_indicators, order_by=Indicator.number
    )
    updates: Mapped[list["StatusUpdate"]] = relationship(
        back_populates="project", order_by="StatusUpdate.id"
    )

    __mapper_args__ = {"version_id_col": version}


class StatusUpdate(Base):
    """One appended entry of a project's status history; never changed afterwards."""

    __tablename__ = "status_updates"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_list(STATUSES)}", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    previous_status: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, server_default="")
    client_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    position = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    # Who recorded it; empty for entries the system writes (registration, data loads).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    project: Mapped[Project] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()
