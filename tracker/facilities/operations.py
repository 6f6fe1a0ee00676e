"""Writes to facilities; the loader calls these, never the tables."""

from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.facilities.models import Facility, FacilityChange
from tracker.geo.geometry import check_placed
from tracker.words.vocab import FACILITY_DESIGNATIONS, FACILITY_HAZARDS

# Coordinates closer than this (degrees, about 10 cm) are the same place.
SAME_PLACE = 1e-6


@dataclass(frozen=True)
class FacilityRecord:
    """One facility as a source file lists it."""

    gsi_common_id: str
    name: str
    address: str | None
    lon: float
    lat: float
    designations: tuple[str, ...] = ("shelter",)
    # None: the source does not say.
    hazards: tuple[str, ...] | None = None
    capacity: int | None = None
    position_note: str = ""

    def values(self) -> dict:
        """Return the stored fields, as JSON values."""
        return {
            "name": self.name,
            "address": self.address,
            "designations": list(self.designations),
            "hazards": None if self.hazards is None else list(self.hazards),
            "capacity": self.capacity,
            "position_note": self.position_note,
            "position": [self.lon, self.lat],
        }


def check_record(record: FacilityRecord) -> FacilityRecord:
    """Refuse a record with no ID or name, unknown codes or an impossible capacity."""
    where = record.gsi_common_id or record.name or "?"
    if not record.gsi_common_id.strip():
        raise BadInput(f"missing for {record.name!r}", field="gsi_common_id")
    if not record.name.strip():
        raise BadInput(f"missing for {where}", field="name")
    unknown = [d for d in record.designations if d not in FACILITY_DESIGNATIONS]
    if not record.designations or unknown:
        raise BadInput(
            f"{where}: use {', '.join(FACILITY_DESIGNATIONS)}, not {unknown}", field="designations"
        )
    unknown = [h for h in record.hazards or () if h not in FACILITY_HAZARDS]
    if unknown:
        raise BadInput(f"{where}: unknown hazard(s) {', '.join(unknown)}", field="hazards")
    if record.capacity is not None and record.capacity <= 0:
        raise BadInput(f"{where}: must be a positive number of people", field="capacity")
    return record


def sync_facilities(session: Session, records: list[FacilityRecord], *, source: str) -> dict:
    """Make the stored facilities match the source: add new ones, update changed ones and
    withdraw those it no longer lists, recording each change. Return the counts.

    Running it again with the same records changes nothing.
    """
    if not records:
        raise BadInput("the source lists none; nothing was changed", field="facilities")
    for record in records:
        check_record(record)
        check_placed(session, Point(record.lon, record.lat), ("Point",), subject="facility")
    stored = {f.gsi_common_id: f for f in session.scalars(select(Facility))}
    counts = {"added": 0, "changed": 0, "withdrawn": 0, "unchanged": 0}
    for record in records:
        facility = stored.get(record.gsi_common_id)
        if facility is None:
            _add(session, record, source)
            counts["added"] += 1
        elif _update(session, facility, record, source):
            counts["changed"] += 1
        else:
            counts["unchanged"] += 1
    listed = {r.gsi_common_id for r in records}
    for code, facility in stored.items():
        if code not in listed and facility.withdrawn_at is None:
            facility.withdrawn_at = clock.now()
            _record(
                session, facility, "withdraw", {"withdrawn": {"old": False, "new": True}}, source
            )
            counts["withdrawn"] += 1
    session.flush()
    return counts


def _add(session: Session, record: FacilityRecord, source: str) -> Facility:
    facility = Facility(gsi_common_id=record.gsi_common_id, source=source)
    _apply(facility, record)
    session.add(facility)
    session.flush()
    changes = {field: {"old": None, "new": value} for field, value in record.values().items()}
    _record(session, facility, "create", changes, source)
    return facility


def _update(session: Session, facility: Facility, record: FacilityRecord, source: str) -> bool:
    old = _values(facility)
    new = record.values()
    changes = {f: {"old": old[f], "new": new[f]} for f in new if not _same(f, old[f], new[f])}
    if facility.withdrawn_at is not None:
        changes["withdrawn"] = {"old": True, "new": False}
    if not changes:
        return False
    _apply(facility, record)
    facility.withdrawn_at = None
    facility.updated_at = clock.now()
    _record(session, facility, "update", changes, source)
    return True


def _apply(facility: Facility, record: FacilityRecord) -> None:
    facility.name = record.name.strip()
    facility.address = record.address
    facility.designations = list(record.designations)
    facility.hazards = None if record.hazards is None else list(record.hazards)
    facility.capacity = record.capacity
    facility.position_note = record.position_note
    facility.geom = from_shape(Point(record.lon, record.lat), srid=4326)


def _values(facility: Facility) -> dict:
    point = to_shape(facility.geom)
    if not isinstance(point, Point):
        raise TypeError(f"facility {facility.id} is stored as a {point.geom_type}, not a point")
    stored = FacilityRecord(
        gsi_common_id=facility.gsi_common_id,
        name=facility.name,
        address=facility.address,
        lon=point.x,
        lat=point.y,
        designations=tuple(facility.designations),
        hazards=None if facility.hazards is None else tuple(facility.hazards),
        capacity=facility.capacity,
        position_note=facility.position_note,
    )
    return stored.values()


def _same(field: str, old: Any, new: Any) -> bool:
    if field == "position":
        return abs(old[0] - new[0]) < SAME_PLACE and abs(old[1] - new[1]) < SAME_PLACE
    return old == new


def _record(session: Session, facility: Facility, action: str, changes: dict, source: str) -> None:
    session.add(
        FacilityChange(facility_id=facility.id, action=action, changes=changes, source=source)
    )
