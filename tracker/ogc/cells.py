"""How many works stand in each cell of the vector tiles' grid at zoom SUMMARY_ZOOM, kept by
triggers on projects (migration tc1), so that a city or prefecture view is built from a few
thousand counts instead of every work.

A tile of zoom z groups the small works of each cell (a quarter of the tile's width; see
tiles.py). Cells are aligned on the world's grid, so a cell of zoom z <= SUMMARY_ZOOM is exactly
2**(SUMMARY_ZOOM - z) cells across of this table, and its counts are their sums. A work is
small at zoom z when its size is at most half a cell there: `small_to_zoom` is the largest
such zoom (-1 if none up to SUMMARY_ZOOM), computed with the same numbers as tiles.py, so the
counts agree with counting the works themselves. Withdrawn works are not counted.
"""

from sqlalchemy import Boolean, Integer, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base

SUMMARY_ZOOM = 15


class WorkCell(Base):
    """The number of works of one kind and visibility in one cell, by the zoom they stay small to."""

    __tablename__ = "work_cells"

    cx: Mapped[int] = mapped_column(Integer, primary_key=True)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    is_public: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    small_to_zoom: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # May reach 0 when the last work leaves a cell; readers leave such rows out.
    works: Mapped[int] = mapped_column(Integer)
