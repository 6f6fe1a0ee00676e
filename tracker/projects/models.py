"""Projects and their links to the plan; their status history is in history.py."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    Computed,
    Double,
    ForeignKey,
    Index,
    SmallInteger,
    Table,
    Text,
    and_,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from tracker.accounts.models import User
from tracker.core.db import Base, stamp_now
from tracker.facilities.models import Facility
from tracker.plan.models import Indicator, PlanItem
from tracker.words.vocab import FUNDING_SOURCES, KINDS, LINE_KINDS, STATUSES, sql_list

if TYPE_CHECKING:
    from tracker.projects.history import StatusUpdate


_CENTRE_LAT = "((ST_YMin(geom) + ST_YMax(geom)) / 2)"
_MERCATOR_X = "(ST_XMin(geom) + ST_XMax(geom)) / 2 * 111319.49079327357"
_MERCATOR_Y = f"ln(tan(pi() / 4 + radians({_CENTRE_LAT}) / 2)) * 6378137.0"
_MERCATOR_SIZE = (
    "greatest(ST_XMax(geom) - ST_XMin(geom),"
    f" (ST_YMax(geom) - ST_YMin(geom)) / cos(radians({_CENTRE_LAT}))) * 111319.49079327357"
)

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
        # A line kind is a line, or a point marked position_only (a list gave no more).
        CheckConstraint(
            f"kind NOT IN {sql_list(LINE_KINDS)} OR ST_Dimension(geom) = 1 OR position_only",
            name="line_kinds",
        ),
        CheckConstraint(
            f"NOT position_only OR (kind IN {sql_list(LINE_KINDS)}"
            " AND GeometryType(geom) = 'POINT')",
            name="position_only",
        ),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint(
            "planned_cost >= 0 AND contract_amount >= 0 AND spent_amount >= 0", name="amounts"
        ),
        CheckConstraint(f"funding IN {sql_list(FUNDING_SOURCES)}", name="funding"),
        # A withdrawn work always says why.
        CheckConstraint("(withdrawn_at IS NULL) = (withdrawn_reason IS NULL)", name="withdrawn"),
        Index("ix_projects_mercator_x", "mercator_x", "mercator_y"),
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
    # The facility the work is done on (a shelter's retrofit, a new warehouse), if any.
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    # The city's own number for the work (事業番号): a re-imported file updates the same project.
    external_id: Mapped[str | None] = mapped_column(Text, unique=True)
    is_sample: Mapped[bool] = mapped_column(server_default="false")
    # The works register (names and checks in register.py); amounts are whole yen.
    planned_cost: Mapped[int | None] = mapped_column(BigInteger)
    contract_amount: Mapped[int | None] = mapped_column(BigInteger)
    contractor: Mapped[str | None] = mapped_column(Text)
    spent_amount: Mapped[int | None] = mapped_column(BigInteger)
    funding: Mapped[str | None] = mapped_column(Text)
    responsible_section: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry(srid=4326, spatial_index=True))
    # A road, pavement or revetment known only by its position: its point stands for a line.
    position_only: Mapped[bool] = mapped_column(server_default="false")
    # The fields of the work's kind (words.vocab.KIND_DETAILS: a bridge's number and span…).
    details: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # A withdrawn work (取り下げ) is kept with its history but shown nowhere public and
    # counted nowhere (see visible_works); restoring it clears these three.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # Bumped on every change; the API's ETag, so that no edit silently overwrites another.
    version: Mapped[int] = mapped_column(server_default="1")
    # Where the shape sits in Web Mercator metres (its box's centre) and its larger side:
    # vector tiles group small works by these numbers without transforming every shape.
    mercator_x: Mapped[float | None] = mapped_column(Double, Computed(_MERCATOR_X))
    mercator_y: Mapped[float | None] = mapped_column(Double, Computed(_MERCATOR_Y))
    mercator_size: Mapped[float | None] = mapped_column(
        Double, Computed(_MERCATOR_SIZE), index=True
    )

    plan_items: Mapped[list[PlanItem]] = relationship(
        secondary=project_plan_items, order_by=PlanItem.code
    )
    indicators: Mapped[list[Indicator]] = relationship(
        secondary=project_indicators, order_by=Indicator.number
    )
    facility: Mapped[Facility | None] = relationship()
    withdrawn_by: Mapped[User | None] = relationship()
    # In the order things happened on site.
    updates: Mapped[list["StatusUpdate"]] = relationship(
        back_populates="project", order_by="(StatusUpdate.observed_at, StatusUpdate.id)"
    )

    __mapper_args__ = {"version_id_col": version}

    def is_visible(self, *, include_private: bool) -> bool:
        """Tell whether this work shows in lists and public answers (visible_works, in Python)."""
        return self.withdrawn_at is None and (self.is_public or include_private)


def visible_works(
    p: "type[Project] | ReadOnlyColumnCollection[str, Any]", *, include_private: bool
) -> ColumnElement[bool]:
    """The one condition of the works a list, count, map, tile, feed, export or figure shows:
    never a withdrawn one, and staff-only ones only to those who may see them.

    `p` is the Project model, the table's columns or a subquery's (`.c`). The one SQL text
    that cannot use it (alerts' matching) says the same in words.
    """
    shown = p.withdrawn_at.is_(None)
    return shown if include_private else and_(shown, p.is_public.is_(True))


def lock_project(session: Session, project_id: int) -> Project | None:
    """Load a project and lock its row until the transaction ends, so changes queue up."""
    return session.scalar(
        select(Project)
        .where(Project.id == project_id)
        .with_for_update(of=Project)
        .execution_options(populate_existing=True)
    )


# The nearby searches read projects nearest-first off this index; written as PostgreSQL
# reflects it, so that comparing the models with the migrations sees the same expression.
Index(
    "ix_projects_geog",
    literal_column("(geom)::geography"),
    postgresql_using="gist",
    _table=Project.__table__,
)
# The meeting filters and the indicators find projects by plan item and indicator.
Index(
    "ix_project_plan_items_plan_item",
    project_plan_items.c.plan_item_id,
    project_plan_items.c.project_id,
)
Index(
    "ix_project_indicators_indicator",
    project_indicators.c.indicator_id,
    project_indicators.c.project_id,
)
