"""Read traffic restrictions as GeoJSON built in SQL: the API, the map layers, the project
and nearby pages and the feed all read from here."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache, lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    Text,
    and_,
    bindparam,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from tracker.core import clock
from tracker.geo.geometry import in_circle
from tracker.projects.models import Project, visible_works
from tracker.projects.queries import end_of_day
from tracker.restrictions.models import RestrictionChange, TrafficRestriction
from tracker.restrictions.schedule import (
    applies_on_sql,
    in_force_sql,
    next_in_force_sql,
    sql_params,
)

COORDINATE_DECIMALS = 6


@dataclass
class RestrictionFilter:
    """Which restrictions to read.

    With `active_on`, those that hold on that day (one of their days, not lifted before it
    ended); without, those in force or still to come today. Each says whether it is in
    force at `at` (default: now) and when it next comes into force. Only restrictions of public projects unless
    `include_private`, and never those of withdrawn works unless `include_withdrawn` (the
    work's own page, for those who may restore it).
    """

    active_on: date | None = None
    bbox: tuple[float, float, float, float] | None = None
    project_id: int | None = None
    include_private: bool = False
    # With `project_id`: past and lifted ones too, for the project's own page.
    every: bool = False
    include_withdrawn: bool = False
    at: datetime | None = None


def _time(column: SQLColumnExpression[Any]) -> ColumnElement[str]:
    return func.to_char(column, "HH24:MI")


def _line(column: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    return cast(func.ST_AsGeoJSON(column, COORDINATE_DECIMALS), JSON)


def _what_and_when(r: type[TrafficRestriction]) -> list:
    """Return (name, value, ...) pairs of what a restriction is, when, why and whom to ask."""
    return [
        "kind", r.kind,
        "starts_on", r.starts_on,
        "ends_on", r.ends_on,
        "days", r.days,
        "time_from", _time(r.time_from),
        "time_until", _time(r.time_until),
        "description", r.description,
        "reason", r.reason,
        "contact", r.contact,
    ]  # fmt: skip


def _timing(r: Any, at: datetime | None) -> list:
    """Return (name, value, ...) pairs: in force at the instant, and when it next begins."""
    return [
        "in_force_now", in_force_sql(r, at),
        "next_in_force_at", next_in_force_sql(r, at),
    ]  # fmt: skip


def restriction_properties(r: type[TrafficRestriction], p: type[Project]) -> list:
    """Return (name, value, ...) pairs of a restriction's public properties, timed at the
    instant schedule.sql_params() binds."""
    return [
        "id", r.id,
        "project_id", r.project_id,
        "project_name", p.name,
        "sample", p.is_sample,
        *_what_and_when(r),
        # False: no section of its own; the geometry is its project's.
        "section_drawn", r.geom.is_not(None),
        "detour", _line(r.detour_geom),
        "lifted_at", r.ended_at,
        "updated_at", r.updated_at,
        *_timing(r, None),
    ]  # fmt: skip


class _Shape(NamedTuple):
    """What a filter's statement is made of; its values (the day, the work, the box, the
    instant) are bound parameters, so that one statement serves every request of a shape."""

    active_on: date | None
    bbox: bool
    project: bool
    include_private: bool
    every: bool
    include_withdrawn: bool


_BBOX = ("bbox_west", "bbox_south", "bbox_east", "bbox_north")


def _shape_and_values(filt: RestrictionFilter) -> tuple[_Shape, dict[str, Any]]:
    shape = _Shape(
        filt.active_on,
        filt.bbox is not None,
        filt.project_id is not None,
        filt.include_private,
        filt.every,
        filt.include_withdrawn,
    )
    values = sql_params(filt.at or clock.now())
    values |= {
        "restriction_day": filt.active_on or clock.today(),
        "restriction_project": filt.project_id,
    }
    values |= dict(zip(_BBOX, filt.bbox or (), strict=False))
    return shape, values


# Built once per shape (the API, every work's page and the map layers ask again and again).
@lru_cache(maxsize=64)
def _rows(shape: _Shape) -> Select:
    """Select (restriction feature json, starts_on, id) rows of a filter of this shape."""
    r, p = TrafficRestriction, Project
    where = [r.project_id == p.id]
    if not shape.include_withdrawn:
        where.append(visible_works(p, include_private=shape.include_private))
    elif not shape.include_private:
        where.append(p.is_public.is_(True))
    if shape.project:
        where.append(r.project_id == bindparam("restriction_project", type_=Integer))
    if not shape.every:
        day = bindparam("restriction_day", type_=Date)
        where.append(or_(r.ends_on.is_(None), r.ends_on >= day))
        if shape.active_on is None:
            where.append(r.ended_at.is_(None))
        else:
            where += [
                applies_on_sql(r, shape.active_on),
                or_(r.ended_at.is_(None), r.ended_at >= end_of_day(shape.active_on)),
            ]
    geom = func.coalesce(r.geom, p.geom)
    if shape.bbox:
        box = [bindparam(name, type_=Float) for name in _BBOX]
        where.append(geom.intersects(func.ST_MakeEnvelope(*box, 4326)))
    feature = func.json_build_object(
        "type", "Feature",
        "id", r.id,
        "geometry", _line(geom),
        "properties", func.json_build_object(*restriction_properties(r, p)),
    )  # fmt: skip
    return select(feature.label("feature"), r.starts_on, r.id).where(and_(*where))


def restriction_rows(
    *, today: date, include_private: bool, kinds: Sequence[str] = (), at: datetime | None = None
) -> Select:
    """Select the restrictions in force or announced on `today` as plain columns, with `geom`
    the closed or narrowed section (the work's own geometry when none was drawn): the rows
    of layers built elsewhere, such as the OGC API's items and tiles. `in_force` tells
    whether each is in force at `at` (default: now), `next_in_force_at` when it next begins."""
    at = at or clock.now()
    r, p = TrafficRestriction.__table__, Project.__table__
    query = (
        select(
            r.c.id,
            r.c.project_id,
            p.c.name.label("project_name"),
            p.c.is_sample.label("sample"),
            r.c.kind,
            r.c.starts_on,
            r.c.ends_on,
            r.c.days,
            _time(r.c.time_from).label("time_from"),
            _time(r.c.time_until).label("time_until"),
            r.c.description,
            r.c.reason,
            r.c.contact,
            in_force_sql(r.c, at).label("in_force"),
            next_in_force_sql(r.c, at).label("next_in_force_at"),
            r.c.geom.is_not(None).label("section_drawn"),
            r.c.detour_geom.is_not(None).label("has_detour"),
            func.coalesce(r.c.geom, p.c.geom).label("geom"),
        )
        .join(p, p.c.id == r.c.project_id)
        # In force or announced: lifted and past restrictions are history, not a layer.
        .where(r.c.ended_at.is_(None), or_(r.c.ends_on.is_(None), r.c.ends_on >= today))
    )
    query = query.where(visible_works(p.c, include_private=include_private))
    if kinds:
        query = query.where(r.c.kind.in_(list(kinds)))
    return query


def restriction_collection(session: Session, filt: RestrictionFilter) -> str:
    """Return the restrictions as GeoJSON FeatureCollection text, earliest start first."""
    shape, values = _shape_and_values(filt)
    return session.execute(_collection(shape), values).scalar_one()


@lru_cache(maxsize=64)
def _collection(shape: _Shape) -> Select:
    rows = _rows(shape).subquery("rows")
    features = func.coalesce(
        func.json_agg(aggregate_order_by(rows.c.feature, rows.c.starts_on, rows.c.id)),
        text("'[]'::json"),
    )
    collection = func.json_build_object("type", "FeatureCollection", "features", features)
    return select(cast(collection, Text))


def restriction_features(session: Session, filt: RestrictionFilter) -> list[dict]:
    """Return the restrictions as GeoJSON Feature dicts, earliest start first."""
    shape, values = _shape_and_values(filt)
    return [row.feature for row in session.execute(_in_order(shape), values)]


@lru_cache(maxsize=64)
def _in_order(shape: _Shape) -> Select:
    return _rows(shape).order_by(TrafficRestriction.starts_on, TrafficRestriction.id)


def coming_restrictions_json(
    project_id: ColumnElement[int], today: date | ColumnElement[date]
) -> ColumnElement[Any]:
    """Return a correlated JSON array of a project's restrictions in force or still to come.

    Lifted or past ones stay out; each says whether it is in force at the instant bound by
    schedule.sql_params() (`in_force`, and `in_force_now` alike) and when it next begins, with
    its hours, reason, contact, and its section and detour lines when drawn.
    """
    r = TrafficRestriction
    entry = func.json_build_object(
        "id", r.id,
        *_what_and_when(r),
        "section", _line(r.geom),
        "detour", _line(r.detour_geom),
        "in_force", in_force_sql(r),
        "in_force_now", in_force_sql(r),
        "next_in_force_at", next_in_force_sql(r),
    )  # fmt: skip
    return (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(entry, r.starts_on, r.id)), text("'[]'::json")
            )
        )
        .where(
            r.project_id == project_id,
            r.ended_at.is_(None),
            or_(r.ends_on.is_(None), r.ends_on >= today),
        )
        .scalar_subquery()
    )


@dataclass(frozen=True)
class RestrictionEvent:
    """A restriction added, changed or lifted, for the feed."""

    id: int
    restriction_id: int
    project_id: int
    project_name: str
    is_sample: bool
    action: str
    recorded_at: datetime
    kind: str
    starts_on: date
    ends_on: date | None
    description: str


def restriction_events(
    session: Session, lon: float, lat: float, radius_m: float, limit: int = 50
) -> list[RestrictionEvent]:
    """Return the newest restriction events of public projects whose section (or, without
    one, whose project) lies within `radius_m` of the point."""
    circle = {"lon": lon, "lat": lat, "radius": radius_m, "limit": limit}
    return [RestrictionEvent(*row) for row in session.execute(_restriction_events(), circle)]


# Built once (every feed asks it for its own circle): only its parameters change.
@cache
def _restriction_events() -> Select:
    r, p, c = TrafficRestriction, Project, RestrictionChange
    shape = func.geography(func.coalesce(r.geom, p.geom))
    return (
        select(
            c.id,
            c.restriction_id,
            r.project_id,
            p.name,
            p.is_sample,
            c.action,
            c.recorded_at,
            r.kind,
            r.starts_on,
            r.ends_on,
            r.description,
        )
        .join(r, r.id == c.restriction_id)
        .join(p, p.id == r.project_id)
        .where(visible_works(p, include_private=False), in_circle(shape))
        .order_by(c.recorded_at.desc(), c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


@dataclass(frozen=True)
class ListedRestriction:
    """A restriction in force or announced, for the city-wide list and its timeline."""

    id: int
    project_id: int
    project_name: str
    is_sample: bool
    kind: str
    starts_on: date
    ends_on: date | None
    days: str
    time_from: time | None
    time_until: time | None
    description: str
    reason: str
    contact: str
    has_detour: bool
    in_force_now: bool
    next_in_force_at: datetime | None
    # A point on its section (or its work), to name the area it is in.
    lon: float
    lat: float
    ended_at: datetime | None = None


def listed_restrictions(
    session: Session, *, at: datetime, include_private: bool, kinds: Sequence[str] = ()
) -> list[ListedRestriction]:
    """Return the restrictions in force or announced at `at` (not lifted, not past their end),
    earliest start first, each timed at `at` by the one rule."""
    r, p = TrafficRestriction, Project
    today = at.astimezone(clock.JST).date()
    point = func.ST_PointOnSurface(func.coalesce(r.geom, p.geom))
    query = (
        select(
            r.id,
            r.project_id,
            p.name,
            p.is_sample,
            r.kind,
            r.starts_on,
            r.ends_on,
            r.days,
            r.time_from,
            r.time_until,
            r.description,
            r.reason,
            r.contact,
            r.detour_geom.is_not(None),
            in_force_sql(r, at),
            next_in_force_sql(r, at),
            func.ST_X(point),
            func.ST_Y(point),
            r.ended_at,
        )  # fmt: skip
        .join(p, p.id == r.project_id)
        .where(
            visible_works(p, include_private=include_private),
            r.ended_at.is_(None),
            or_(r.ends_on.is_(None), r.ends_on >= today),
        )
        .order_by(r.starts_on, r.id)
    )
    if kinds:
        query = query.where(r.kind.in_(list(kinds)))
    return [ListedRestriction(*row) for row in session.execute(query)]
