"""Yearly indicator figures recorded by staff (seismic rates, official figures)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.accounts.models import User
from tracker.db import Base
from tracker.plan.models import Indicator
from tracker.projects.models import StatusUpdate, project_indicators, project_plan_items


class IndicatorFigure(Base):
    """One fiscal year's figure for an indicator, with its source; appended, never edited.

    A later entry for the same indicator and year supersedes an earlier one, so that
    any past date can still show the figure people saw then.
    """

    __tablename__ = "indicator_figures"
    __table_args__ = (
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year"),
        CheckConstraint("length(btrim(source)) > 0", name="source"),
        Index("ix_indicator_figures_lookup", "indicator_id", "fiscal_year", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    fiscal_year: Mapped[int]
    value: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, server_default="")
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_sample: Mapped[bool] = mapped_column(server_default="false")

    indicator: Mapped[Indicator] = relationship()
    recorded_by: Mapped[User | None] = relationship()


# Indexes the meeting pages and the dashboard need on the shared project tables; they come
# with this feature's migration, so they are declared with it.
Index(
    "ix_status_updates_project_recorded",
    StatusUpdate.project_id,
    StatusUpdate.recorded_at.desc(),
    StatusUpdate.id.desc(),
    postgresql_include=["status", "progress"],
)
Index(
    "ix_status_updates_completed",
    StatusUpdate.project_id,
    postgresql_where=text("status = 'completed'"),
)
Index("ix_status_updates_recorded_at", StatusUpdate.recorded_at)
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
