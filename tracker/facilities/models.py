"""Facility tables: designated shelters as places, and the record of how each changed."""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tracker.core.db import Base, stamp_now
from tracker.words.vocab import FACILITY_DESIGNATIONS, FACILITY_HAZARDS, sql_array

FACILITY_ACTIONS = ("create", "update", "withdraw")


class Facility(Base):
    """A designated shelter or evacuation site (GSI): a place, not a work.

    Kept current from the GSI data by the loader; one that leaves the data is withdrawn,
    not deleted, since works may link to it.
    """

    __tablename__ = "facilities"
    __table_args__ = (
        CheckConstraint(
            f"cardinality(designations) > 0 AND designations <@ {sql_array(FACILITY_DESIGNATIONS)}",
            name="designations",
        ),
        CheckConstraint(f"hazards <@ {sql_array(FACILITY_HAZARDS)}", name="hazards"),
        CheckConstraint("capacity > 0", name="capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # 共通ID of 国土地理院 指定緊急避難場所・指定避難所データ.
    gsi_common_id: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    designations: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # None: the data does not say (the GSI 指定避難所 file carries no hazard flags).
    hazards: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    capacity: Mapped[int | None]
    # Why the position needs checking on site, when the sources disagree.
    position_note: Mapped[str] = mapped_column(Text, server_default="")
    source: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    created_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    # Set when the facility left the source data; its page and links stay.
    withdrawn_at: Mapped[datetime | None]


class FacilityChange(Base):
    """One change of a facility: created, updated from the source, or withdrawn."""

    __tablename__ = "facility_changes"
    __table_args__ = (CheckConstraint("action IN ('create', 'update', 'withdraw')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=stamp_now, server_default=func.now())
    action: Mapped[str] = mapped_column(Text)
    # Each field's old and new value; a facility that used to be a project keeps that
    # project's record and history under "moved_from_project".
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # What the change came from: the data file, or the migration that moved it.
    source: Mapped[str] = mapped_column(Text)
