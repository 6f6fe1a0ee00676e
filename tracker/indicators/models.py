"""Yearly indicator figures recorded by staff (seismic rates, official figures)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.accounts.models import User
from tracker.core.db import Base, stamp_now
from tracker.plan.models import Indicator


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
    recorded_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_sample: Mapped[bool] = mapped_column(server_default="false")

    indicator: Mapped[Indicator] = relationship()
    recorded_by: Mapped[User | None] = relationship()
