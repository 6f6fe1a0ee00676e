"""Hazard zones read in SQL: map layers, the works and shelters inside them, a point's zones."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    FromClause,
    Integer,
    Row,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from tracker.facilities.models import Facility
from tracker.geo.geometry import point_parameter
from tracker.hazards.codes import HAZARDS, ZONE_HAZARDS_BY_FACILITY_HAZARD
from tracker.hazards.models import HazardLayer, HazardZone
from tracker.projects.models import Project
from tracker.projects.queries import ProjectFilter, end_of_day, filtered_projects

# Zones on the map: 5 decimals (about 1 m) keep a prefecture's outlines small enough to send.
MAP_DECIMALS = 5


def loaded_layers(session: Session) -> list[HazardLayer]:
    """Return the loaded layers, in the order of the code table."""
    rows = {row.layer: row for row in session.scalars(select(HazardLayer))}
    return [rows[layer] for layer in ("sediment", "flood") if layer in rows]


def loaded_hazards(session: Session) -> list[str]:
    """Return the hazards that have at least one zone, in the code table's order."""
    present = set(session.scalars(select(HazardZone.hazard).distinct()))
    return [hazard for hazard in HAZARDS if hazard in present]


def hazard_geojson(session: Session, hazard: str) -> str:
    """Return one hazard's zones as GeoJSON FeatureCollection text (class and name each)."""
    feature = func.json_build_object(
        "type", "Feature",
        "geometry", cast(func.ST_AsGeoJSON(HazardZone.geom, MAP_DECIMALS), JSON),
        "properties", func.json_build_object(
            "hazard", HazardZone.hazard, "zone_class", HazardZone.zone_class,
            "name", HazardZone.name,
        ),
    )  # fmt: skip
    rows = select(feature.label("f")).where(HazardZone.hazard == hazard).subquery()
    collection = func.json_build_object(
        "type", "FeatureCollection",
        "features", func.coalesce(func.json_agg(rows.c.f), text("'[]'::json")),
    )  # fmt: skip
    return session.execute(select(cast(collection, Text))).scalar_one()


def designated_shelters(*, as_of: date | None = None) -> Select:
    """Return a SELECT of the designated shelters (id, name, address, geom, hazards).

    They are the facilities designated as shelters, in force (or, with `as_of`, in force at
    the end of that day). `hazards` lists the hazards each is meant for; a facility whose
    source says nothing of hazards (the GSI 指定避難所 file carries no flags) counts as meant
    for every hazard.
    """
    query = select(
        Facility.id,
        Facility.name,
        Facility.address,
        Facility.geom,
        _zone_hazards(Facility.hazards).label("hazards"),
    ).where(literal("shelter") == any_(Facility.designations))
    if as_of is None:
        return query.where(Facility.withdrawn_at.is_(None))
    end = end_of_day(as_of)
    return query.where(
        Facility.created_at < end,
        or_(Facility.withdrawn_at.is_(None), Facility.withdrawn_at >= end),
    )


def _zone_hazards(facility_hazards: Any) -> ColumnElement[Any]:
    """Return the zone hazards (in the code table's order) a site accepting these is for."""
    meant: list[Any] = [  # SQL expressions: array() is typed for plain values
        case((facility_hazards.any(given), zone))
        for zone in HAZARDS
        for given, zones in ZONE_HAZARDS_BY_FACILITY_HAZARD.items()
        if zone in zones
    ]
    return case(
        (facility_hazards.is_(None), array(list(HAZARDS), type_=Text)),
        else_=func.array_remove(array(meant, type_=Text), None),
    )


@dataclass
class ExposedWork:
    """A work inside or crossing a zone of one hazard."""

    hazard: str
    id: int
    name: str
    kind: str
    status: str
    inside: bool  # wholly inside one zone; otherwise it crosses a zone's edge
    zone_classes: list[str]


@dataclass
class ExposedShelter:
    """A designated shelter inside a zone of a hazard it is meant for."""

    hazard: str
    id: int
    name: str
    address: str | None
    zone_classes: list[str]


def _for_overlay(session: Session) -> None:
    # A spatial join's estimated cost runs high enough to start PostgreSQL's JIT compiler,
    # which then takes longer (over a second) than the join itself; the same estimate spills
    # the final sort to disk. Both set for this transaction only.
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '32MB'"))


def works_in_zones(session: Session, filt: ProjectFilter) -> list[ExposedWork]:
    """Return the filtered works inside or crossing a zone, per hazard, ordered by hazard and id."""
    _for_overlay(session)
    z = HazardZone.__table__
    pr = Project.__table__
    # Every zone finds its works through the projects' spatial index first (one row per work
    # and zone, joined up below); the filter (which may read the history for as_of) then keeps
    # the ones asked for. A point that touches a zone lies in it: only lines and areas are
    # tested for lying wholly inside.
    matches = (
        select(
            z.c.hazard,
            pr.c.id,
            case(
                (func.ST_Dimension(pr.c.geom) == 0, true()),
                else_=func.ST_CoveredBy(pr.c.geom, z.c.geom),
            ).label("inside"),
            z.c.zone_class,
        )
        .select_from(z)
        .join(pr, func.ST_Intersects(pr.c.geom, z.c.geom))
    )
    if filt.as_of is not None:
        # Worked out on its own: joined with the history an as_of filter reads, the planner
        # would rather test each of 100,000 works against the zones, several times slower.
        pairs: FromClause = matches.cte("pairs").prefix_with("MATERIALIZED", dialect="postgresql")
    else:
        pairs = matches.subquery("pairs")
    p = filtered_projects(filt).subquery("p")
    rows = session.execute(
        select(
            pairs.c.hazard,
            p.c.id,
            p.c.name,
            p.c.kind,
            p.c.status,
            pairs.c.inside,
            pairs.c.zone_class,
        )
        .join(p, p.c.id == pairs.c.id)
        .order_by(_hazard_order(pairs.c.hazard), p.c.id)
    )
    found: list[ExposedWork] = []
    for hazard, pid, name, kind, status, inside, zone_class in rows:
        last = found[-1] if found else None
        if last is not None and last.hazard == hazard and last.id == pid:
            # The same work in another zone of this hazard.
            last.inside = last.inside or inside
            if zone_class not in last.zone_classes:
                last.zone_classes = sorted([*last.zone_classes, zone_class])
            continue
        found.append(ExposedWork(hazard, pid, name, kind, status, inside, [zone_class]))
    return found


def _hazard_order(hazard_column: ColumnElement[str]) -> ColumnElement[int]:
    """Order hazards as the code table lists them."""
    return func.array_position(array(list(HAZARDS), type_=Text), hazard_column)


def shelters_in_zones(session: Session, *, as_of: date | None = None) -> list[ExposedShelter]:
    """Return the designated shelters inside a zone of a hazard they are meant for."""
    s = designated_shelters(as_of=as_of).subquery("s")
    z = HazardZone.__table__
    rows = session.execute(
        select(
            z.c.hazard,
            s.c.id,
            s.c.name,
            s.c.address,
            func.array_agg(z.c.zone_class.distinct()),
        )
        .select_from(s)
        .join(
            z,
            and_(func.ST_Intersects(s.c.geom, z.c.geom), z.c.hazard == func.any(s.c.hazards)),
        )
        .group_by(z.c.hazard, s.c.id, s.c.name, s.c.address)
    ).all()
    order = list(HAZARDS)
    found = [ExposedShelter(r[0], r[1], r[2], r[3], sorted(r[4])) for r in rows]
    return sorted(found, key=lambda s: (order.index(s.hazard), s.id))


@dataclass
class PointZone:
    """A hazard zone a point lies in."""

    hazard: str
    zone_class: str
    name: str


def zones_at(session: Session, lon: float, lat: float) -> list[PointZone]:
    """Return the zones the point lies in, one per hazard and class, in table order."""
    return _in_table_order(session.execute(_zones_at(), {"lon": lon, "lat": lat}))


def shelter_zones(session: Session, shelter_id: int) -> list[PointZone]:
    """Return the zones a designated shelter lies in, of the hazards it is meant for."""
    return _in_table_order(session.execute(_shelter_zones(), {"shelter_id": shelter_id}))


def _in_table_order(rows: Iterable[Row[Any]]) -> list[PointZone]:
    order = list(HAZARDS)
    return sorted(
        (PointZone(*r) for r in rows), key=lambda z: (order.index(z.hazard), z.zone_class)
    )


# Built once (a nearby page reads both for every place asked): only their parameters change.
@cache
def _zones_at() -> Select:
    return (
        select(HazardZone.hazard, HazardZone.zone_class, func.min(HazardZone.name))
        .where(func.ST_Intersects(HazardZone.geom, point_parameter()))
        .group_by(HazardZone.hazard, HazardZone.zone_class)
    )


@cache
def _shelter_zones() -> Select:
    s = designated_shelters().subquery("s")
    z = HazardZone.__table__
    return (
        select(z.c.hazard, z.c.zone_class, func.min(z.c.name))
        .select_from(s)
        .join(
            z,
            and_(func.ST_Intersects(s.c.geom, z.c.geom), z.c.hazard == func.any(s.c.hazards)),
        )
        .where(s.c.id == bindparam("shelter_id", type_=Integer))
        .group_by(z.c.hazard, z.c.zone_class)
    )
