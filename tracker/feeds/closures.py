"""The traffic restrictions the work-zone feeds publish, read once in SQL.

In force or announced (not lifted, not ended before today), on public works that are not
withdrawn: the same rule as the map layer and the OGC collection.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from tracker.projects.models import Project, visible_works
from tracker.restrictions.models import RestrictionChange, TrafficRestriction

COORDINATE_DECIMALS = 6
LINE_TYPES = ("LINESTRING", "MULTILINESTRING")

Coordinates = list[list[float]]


@dataclass(frozen=True)
class FeedRestriction:
    """One restriction as the feeds need it, with its lines split into simple parts."""

    id: int
    project_id: int
    project_name: str
    planned_end: date | None
    kind: str
    starts_on: date
    ends_on: date | None
    days: str
    time_from: time | None
    time_until: time | None
    description: str
    reason: str
    contact: str
    # The closed or narrowed section's lines; without a drawn section, the work's lines.
    lines: list[Coordinates]
    section_drawn: bool
    # A point on the work (or section) for restrictions with no line at all.
    anchor: list[float]
    detour_lines: list[Coordinates]
    created_at: datetime
    updated_at: datetime


def _merged(column: Any) -> ColumnElement[Any]:
    """Join a line's touching parts into as few lines as they make; other shapes stay."""
    return case(
        (func.GeometryType(column).in_(LINE_TYPES), func.ST_LineMerge(column)), else_=column
    )


def _json(column: Any) -> ColumnElement[str]:
    return func.ST_AsGeoJSON(column, COORDINATE_DECIMALS)


def line_parts(geojson: str | None) -> list[Coordinates]:
    """Return the simple lines of a GeoJSON geometry: none for points and areas."""
    if geojson is None:
        return []
    geometry = json.loads(geojson)
    if geometry["type"] == "LineString":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiLineString":
        return list(geometry["coordinates"])
    return []


def feed_restrictions(session: Session, today: date) -> list[FeedRestriction]:
    """Return the public restrictions in force or announced on `today`, earliest start first."""
    r, p = TrafficRestriction, Project
    shape = func.coalesce(r.geom, p.geom)
    rows = session.execute(
        select(
            r.id,
            r.project_id,
            p.name,
            p.planned_end,
            r.kind,
            r.starts_on,
            r.ends_on,
            r.days,
            r.time_from,
            r.time_until,
            r.description,
            r.reason,
            r.contact,
            _json(_merged(shape)).label("lines"),
            r.geom.is_not(None).label("section_drawn"),
            _json(func.ST_PointOnSurface(shape)).label("anchor"),
            _json(_merged(r.detour_geom)).label("detour"),
            r.created_at,
            r.updated_at,
        )
        .join(p, p.id == r.project_id)
        .where(
            visible_works(p, include_private=False),
            r.ended_at.is_(None),
            or_(r.ends_on.is_(None), r.ends_on >= today),
        )
        .order_by(r.starts_on, r.id)
    )
    return [
        FeedRestriction(
            id=row.id,
            project_id=row.project_id,
            project_name=row.name,
            planned_end=row.planned_end,
            kind=row.kind,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            days=row.days,
            time_from=row.time_from,
            time_until=row.time_until,
            description=row.description,
            reason=row.reason,
            contact=row.contact,
            lines=line_parts(row.lines),
            section_drawn=row.section_drawn,
            anchor=json.loads(row.anchor)["coordinates"],
            detour_lines=line_parts(row.detour),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


def last_change(session: Session) -> datetime | None:
    """Return when a public work's restriction was last added, changed or lifted."""
    r, p, c = TrafficRestriction, Project, RestrictionChange
    return session.scalar(
        select(func.max(c.recorded_at))
        .join(r, r.id == c.restriction_id)
        .join(p, p.id == r.project_id)
        .where(visible_works(p, include_private=False))
    )
