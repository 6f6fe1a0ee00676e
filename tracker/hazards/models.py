"""Hazard layers as loaded from the national data, and their zones."""

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, ForeignKey, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base, stamp_now
from tracker.hazards.codes import HAZARDS, LAYERS
from tracker.words.vocab import sql_list


class HazardLayer(Base):
    """One loaded national layer (A33 or A31): where it came from and when."""

    __tablename__ = "hazard_layers"
    __table_args__ = (CheckConstraint(f"layer IN {sql_list(LAYERS)}", name="layer"),)

    layer: Mapped[str] = mapped_column(Text, primary_key=True)
    source_name: Mapped[str] = mapped_column(Text)
    zone_count: Mapped[int]
    loaded_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())


class HazardZone(Base):
    """One zone polygon: which hazard, its class (警戒区域, a depth rank …) and its name."""

    __tablename__ = "hazard_zones"
    __table_args__ = (CheckConstraint(f"hazard IN {sql_list(HAZARDS)}", name="hazard"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    layer: Mapped[str] = mapped_column(
        ForeignKey("hazard_layers.layer", ondelete="CASCADE"), index=True
    )
    hazard: Mapped[str] = mapped_column(Text, index=True)
    zone_class: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, server_default="")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
