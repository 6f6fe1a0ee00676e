"""Plan catalogue tables."""

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base

LEVELS = ("policy", "measure", "initiative", "shisaku")


class PlanItem(Base):
    """A policy (政策), measure (実施施策), initiative (主な取り組み) or 施策 (主要な施策)."""

    __tablename__ = "plan_items"
    __table_args__ = (CheckConstraint(f"level IN {LEVELS}", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    level: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_items.id"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    effect: Mapped[str | None] = mapped_column(Text)
    activities: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")

    parent: Mapped["PlanItem | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["PlanItem"]] = relationship(
        back_populates="parent", order_by="PlanItem.number"
    )
    indicators: Mapped[list["Indicator"]] = relationship(
        back_populates="measure", order_by="Indicator.number"
    )


class Indicator(Base):
    """A 成果指標 of a measure, with its R2 baseline and R6 target as printed."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("plan_items.id"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    baseline: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    baseline_label: Mapped[str] = mapped_column(Text)
    baseline_year: Mapped[int]
    target: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    target_label: Mapped[str] = mapped_column(Text)
    target_year: Mapped[int]

    measure: Mapped[PlanItem] = relationship(back_populates="indicators")
