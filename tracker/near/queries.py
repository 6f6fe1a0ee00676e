"""Public projects around a point: the /near page, the nearby API and the feed share these.

They read the query core's nearest-projects search with include_private off and its public
fields only, whoever is asking: notes, staff names, departments, budgets and photo positions
never leave here.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import (
    NUMERIC,
    Date,
    Float,
    Integer,
    ScalarSelect,
    Select,
    Subquery,
    Text,
    bindparam,
    cast,
    func,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from tracker.city.models import CityBoundary
from tracker.core import clock
from tracker.core.db import read_row_alone
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.geo.geometry import CITY_CODE, check_lon_lat, in_circle, point_parameter
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project, visible_works
from tracker.projects.queries import Circle, feature_json, nearest_projects
from tracker.restrictions.queries import coming_restrictions_json
from tracker.restrictions.schedule import sql_params

RADIUS_MIN_M = 1
RADIUS_MAX_M = 10_000
DEFAULT_RADIUS_M = 1000
# A resident may stand just outside the city, or look up a relative's house from Kumamoto.
MAX_OUTSIDE_CITY_M = 20_000
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


def _number(args: Mapping[str, str], name: str) -> float | None:
    raw = args.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(
            _("数値ではありません（%(value)s）", value=raw[:20]), code="not_a_number", field=name
        ) from None
    if not math.isfinite(value):
        raise BadInput(
            _("有限の数値で指定してください（%(value)s）", value=raw[:20]),
            code="not_a_number",
            field=name,
        )
    return value


def parse_radius(args: Mapping[str, str], default: float = DEFAULT_RADIUS_M) -> float:
    """Read ?radius= in metres, refusing anything outside 1–10,000."""
    radius = _number(args, "radius")
    if radius is None:
        return default
    if not RADIUS_MIN_M <= radius <= RADIUS_MAX_M:
        raise BadInput(
            _(
                "%(min)s〜%(max)s メートルで指定してください（%(value)s）",
                min=RADIUS_MIN_M,
                max=format(RADIUS_MAX_M, ","),
                value=format(radius, "g"),
            ),
            code="out_of_range",
            field="radius",
        )
    return radius


def parse_point(args: Mapping[str, str]) -> tuple[float, float]:
    """Read ?lat= and ?lon=, refusing missing, non-numeric or impossible values."""
    lat, lon = _number(args, "lat"), _number(args, "lon")
    missing = [name for name, value in (("lat", lat), ("lon", lon)) if value is None]
    if missing or lat is None or lon is None:
        raise BadInput(
            _("緯度（lat）と経度（lon）を度で指定してください（WGS84）"),
            code="required",
            field=missing[0],
        )
    lon, lat = check_lon_lat(lon, lat)
    return lat, lon


class OutsideCity(BadInput):
    """A point too far from Aso City to serve; `distance_m` says how far beyond its boundary."""

    def __init__(self, distance_m: float) -> None:
        super().__init__(
            _(
                "その地点は阿蘇市の境界から約%(km)s km離れています。"
                "市内か、境界から%(limit)s km以内の場所を選んでください。",
                km=f"{distance_m / 1000:.0f}",
                limit=MAX_OUTSIDE_CITY_M // 1000,
            ),
            code="outside_area",
            field="lat/lon",
        )
        self.distance_m = distance_m


def _beyond_city_m() -> ScalarSelect[float]:
    """Select how far the point (lat, lon) lies from the city boundary, in metres (0 inside)."""
    here = point_parameter()
    return (
        select(func.ST_Distance(func.geography(CityBoundary.geom), func.geography(here)))
        .where(CityBoundary.code == CITY_CODE)
        .scalar_subquery()
    )


def _refuse_far(distance: float | None) -> None:
    if distance is not None and distance > MAX_OUTSIDE_CITY_M:
        raise OutsideCity(distance)


def check_near_city(session: Session, lat: float, lon: float) -> None:
    """Refuse a point more than 20 km beyond the city boundary."""
    _refuse_far(session.scalar(_beyond_city_statement(), {"lat": lat, "lon": lon}))


@cache
def _beyond_city_statement() -> Select:
    return select(_beyond_city_m())


def circle_from_args(session: Session, args: Mapping[str, str]) -> Circle:
    """Read and check lat, lon and radius from query arguments."""
    lat, lon = parse_point(args)
    radius = parse_radius(args)
    check_near_city(session, lat, lon)
    return Circle(lat, lon, radius)


def parse_limit(args: Mapping[str, str]) -> int:
    """Read ?limit=, the most features to answer (1–1,000)."""
    value = _number(args, "limit")
    if value is None:
        return DEFAULT_LIMIT
    if value != int(value) or not 1 <= value <= MAX_LIMIT:
        raise BadInput(
            _("1〜%(max)s の整数で指定してください", max=f"{MAX_LIMIT:,}"),
            code="out_of_range",
            field="limit",
        )
    return int(value)


def nearby_params(circle: Circle, *, today: date, limit: int = DEFAULT_LIMIT) -> dict:
    """Return the bind parameters of the nearby statements; restrictions are timed now."""
    return {
        "lat": circle.lat,
        "lon": circle.lon,
        "radius": circle.radius_m,
        "today": today,
        "limit": limit,
        **sql_params(clock.now()),
    }


_LIMIT = bindparam("limit", type_=Integer)
_RADIUS = bindparam("radius", type_=Float)


def _nearby_hits() -> Subquery:
    """Return a subquery of (feature, rank) for the public projects within the circle.

    One row more than the limit is read, which tells whether more lie within the radius.
    Restrictions still to come or in force travel with each feature.
    """
    point = (bindparam("lon", type_=Float), bindparam("lat", type_=Float))
    p = nearest_projects(point, radius_m=_RADIUS, limit=_LIMIT + 1).subquery("p")
    # A work done on a designated shelter (its retrofit, a warehouse): the shelters
    # themselves are facilities, listed apart.
    feature = feature_json(
        p,
        full=False,
        extra=[
            "designated_shelter", p.c.facility_id.is_not(None),
            "address", p.c.address,
            "distance_m", func.round(cast(p.c.distance_m, NUMERIC), 1),
            "restrictions", coming_restrictions_json(p.c.id, bindparam("today", type_=Date)),
        ],
    )  # fmt: skip
    rank = func.row_number().over(order_by=(p.c.distance_m, p.c.id))
    return select(feature.label("feature"), rank.label("rank")).subquery("hits")


# Built once: the statements are the same for every circle, only their parameters change.
@cache
def nearby_statement() -> Select:
    """Select the public projects within a circle as one GeoJSON FeatureCollection (text)."""
    hits = _nearby_hits()
    shown = hits.c.rank <= _LIMIT
    collection = func.json_build_object(
        "type", "FeatureCollection",
        "numberReturned", func.count().filter(shown),
        "truncated", func.count() > _LIMIT,
        "features", func.coalesce(
            func.json_agg(aggregate_order_by(hits.c.feature, hits.c.rank)).filter(shown),
            text("'[]'::json"),
        ),
    )  # fmt: skip
    return select(cast(collection, Text)).select_from(hits)


@cache
def _nearby_features_statement() -> Select:
    hits = _nearby_hits()
    return select(hits.c.feature).order_by(hits.c.rank)


@cache
def nearby_answer_statement() -> Select:
    """Select the nearby answer and how far the point lies beyond the city, in one statement:
    one round trip for the whole answer (the load bench runs it bare too)."""
    return select(
        nearby_statement().scalar_subquery().label("collection"),
        _beyond_city_m().label("beyond_m"),
    )


def nearby_answer(circle: Circle, *, today: date, limit: int = DEFAULT_LIMIT) -> str:
    """Return public projects within the circle as GeoJSON text, nearest first.

    A point more than 20 km beyond the city is refused (OutsideCity). The request's only
    read, it is read outside a transaction (read_alone).
    """
    row = read_row_alone(nearby_answer_statement(), nearby_params(circle, today=today, limit=limit))
    assert row is not None  # an aggregate and a scalar: always one row
    _refuse_far(row.beyond_m)
    return str(row.collection)


def nearby_features(
    session: Session, circle: Circle, *, today: date, limit: int = DEFAULT_LIMIT
) -> tuple[list[dict], bool]:
    """Return the same features as nearby_answer, nearest first, and whether more exist."""
    params = nearby_params(circle, today=today, limit=limit)
    features = list(session.scalars(_nearby_features_statement(), params))
    return features[:limit], len(features) > limit


@dataclass(frozen=True)
class FeedEntry:
    """A public status change, or a project's first entry (previous_status is None)."""

    id: int
    project_id: int
    name: str
    is_sample: bool
    observed_at: datetime
    previous_status: str | None
    status: str
    progress: int


def recent_changes(session: Session, circle: Circle, limit: int = 50) -> list[FeedEntry]:
    """Return the newest status changes and new projects within the circle.

    The works within the circle are read once, off the geography index, into a CTE; their
    history is then read through its (project, observed_at) index, at most `limit` entries
    per work, and the newest `limit` of those kept. The cost follows the works in the
    circle and the entries shown, never their product (a distance-sorted subquery joined to
    the whole history was read again for each history row).
    """
    circle_at = {"lon": circle.lon, "lat": circle.lat, "radius": circle.radius_m, "limit": limit}
    return [FeedEntry(*row) for row in session.execute(_recent_changes(), circle_at)]


# Built once (every feed asks it for its own circle): only its parameters change.
@cache
def _recent_changes() -> Select:
    near = (
        select(Project.id, Project.name, Project.is_sample)
        .where(visible_works(Project, include_private=False))
        .where(in_circle(func.geography(Project.geom)))
        .cte("near")
        .prefix_with("MATERIALIZED")
    )
    u = StatusUpdate
    # Each work's newest entries, straight from the index in order.
    newest = (
        select(u.id, u.observed_at, u.previous_status, u.status, u.progress)  # fmt: skip
        .where(u.project_id == near.c.id)
        .order_by(u.observed_at.desc(), u.id.desc())
        .limit(_LIMIT)
        .lateral("newest")
    )
    return (
        select(
            newest.c.id,
            near.c.id,
            near.c.name,
            near.c.is_sample,
            newest.c.observed_at,
            newest.c.previous_status,
            newest.c.status,
            newest.c.progress,
        )  # fmt: skip
        .select_from(near)
        .join(newest, true())
        .order_by(newest.c.observed_at.desc(), newest.c.id.desc())
        .limit(_LIMIT)
    )
