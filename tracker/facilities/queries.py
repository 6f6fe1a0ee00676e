"""Read facilities: as GeoJSON built in SQL (the map layer, and any other adapter), the
nearest ones to a point, and one by id."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import abort
from sqlalchemy import (
    JSON,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from tracker.core.translate import gettext as _
from tracker.facilities.models import Facility
from tracker.geo.geometry import point_parameter

COORDINATE_DECIMALS = 6


def facility_query(
    *, bbox: tuple[float, float, float, float] | None = None, withdrawn: bool = False
) -> Select[tuple[Facility]]:
    """Select the facilities in force (and withdrawn ones too with `withdrawn`), in a bbox."""
    query = select(Facility)
    if not withdrawn:
        query = query.where(Facility.withdrawn_at.is_(None))
    if bbox is not None:
        query = query.where(Facility.geom.intersects(func.ST_MakeEnvelope(*bbox, 4326)))
    return query


def facility_feature_json(f: FromClause) -> ColumnElement[Any]:
    """Return a GeoJSON Feature (json) of each row of `f`, a subquery of facilities."""
    return func.json_build_object(
        "type", "Feature",
        "id", f.c.id,
        "geometry", cast(func.ST_AsGeoJSON(f.c.geom, COORDINATE_DECIMALS), JSON),
        "properties", func.json_build_object(
            "id", f.c.id,
            "gsi_common_id", f.c.gsi_common_id,
            "name", f.c.name,
            "address", f.c.address,
            "designations", f.c.designations,
            "hazards", f.c.hazards,
            "capacity", f.c.capacity,
        ),
    )  # fmt: skip


def facility_collection(
    session: Session, *, bbox: tuple[float, float, float, float] | None = None
) -> str:
    """Return the facilities in force as GeoJSON FeatureCollection text, ordered by id."""
    f = facility_query(bbox=bbox).subquery("f")
    rows = select(facility_feature_json(f).label("feature")).order_by(f.c.id).subquery("rows")
    features = func.coalesce(func.json_agg(rows.c.feature), text("'[]'::json"))
    collection = func.json_build_object("type", "FeatureCollection", "features", features)
    return session.execute(select(cast(collection, Text))).scalar_one()


@dataclass(frozen=True)
class NearFacility:
    """A facility and how far it is from a point."""

    id: int
    name: str
    address: str | None
    lat: float
    lon: float
    distance_m: float


def nearest_facilities(
    session: Session, lon: float, lat: float, *, count: int = 3, designation: str = "shelter"
) -> list[NearFacility]:
    """Return the facilities in force with this designation nearest to the point."""
    found = {"lon": lon, "lat": lat, "count": count, "designation": designation}
    return [NearFacility(*row) for row in session.execute(_nearest(), found)]


# Built once (a nearby page asks for every place): only its parameters change.
@cache
def _nearest() -> Select:
    here = func.geography(point_parameter())
    there = func.geography(Facility.geom)
    designation = bindparam("designation", type_=Text)
    return (
        select(
            Facility.id,
            Facility.name,
            Facility.address,
            func.ST_Y(Facility.geom),
            func.ST_X(Facility.geom),
            func.ST_Distance(there, here),
        )
        .where(Facility.withdrawn_at.is_(None), designation == any_(Facility.designations))
        .order_by(func.ST_Distance(there, here), Facility.id)
        .limit(bindparam("count", type_=Integer))
    )


def facility_or_404(session: Session, facility_id: int) -> Facility:
    """Return the facility, or answer 404."""
    facility = session.get(Facility, facility_id)
    if facility is None:
        abort(404, description=_("この施設は見つかりません（ID %(id)s）", id=facility_id))
    return facility
