"""Public projects around a point, read in SQL: the /near page, the API and the feed share it.

Only public projects and an explicit list of public fields ever leave these queries, whoever
is asking: notes, staff names, departments, budgets and photo positions are never selected.
"""

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker.errors import BadInput
from tracker.geometry import CITY_CODE

RADIUS_MIN_M = 1
RADIUS_MAX_M = 10_000
DEFAULT_RADIUS_M = 1000
# A resident may stand just outside the city, or look up a relative's house from Kumamoto.
MAX_OUTSIDE_CITY_M = 20_000
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Circle:
    """Where to look: a point (WGS84) and a radius in metres."""

    lat: float
    lon: float
    radius_m: float

    def params(self) -> dict:
        """Return the bind parameters every nearby query uses."""
        return {"lat": self.lat, "lon": self.lon, "radius": self.radius_m}


def _number(args, name: str) -> float | None:
    raw = args.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"{name}: not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise BadInput(f"{name}: not a finite number: {raw!r}")
    return value


def parse_radius(args, default: float = DEFAULT_RADIUS_M) -> float:
    """Read ?radius= in metres, refusing anything outside 1–10,000."""
    radius = _number(args, "radius")
    if radius is None:
        return default
    if not RADIUS_MIN_M <= radius <= RADIUS_MAX_M:
        raise BadInput(
            f"radius: must be between {RADIUS_MIN_M} and {RADIUS_MAX_M:,} metres, not {radius:g}"
        )
    return radius


def parse_point(args) -> tuple[float, float]:
    """Read ?lat= and ?lon=, refusing missing, non-numeric or impossible values."""
    lat, lon = _number(args, "lat"), _number(args, "lon")
    missing = [name for name, value in (("lat", lat), ("lon", lon)) if value is None]
    if missing:
        raise BadInput(f"{' and '.join(missing)}: missing; give lat and lon in degrees (WGS84)")
    if not -90 <= lat <= 90:
        raise BadInput(f"lat: must be between -90 and 90, not {lat:g}")
    if not -180 <= lon <= 180:
        raise BadInput(f"lon: must be between -180 and 180, not {lon:g}")
    return lat, lon


class OutsideCity(BadInput):
    """A point too far from Aso City to serve; `distance_m` says how far beyond its boundary."""

    def __init__(self, distance_m: float):
        super().__init__(
            f"lat/lon: the point is {distance_m / 1000:.1f} km outside Aso City; "
            f"at most {MAX_OUTSIDE_CITY_M // 1000} km beyond its boundary is served"
        )
        self.distance_m = distance_m


def check_near_city(session: Session, lat: float, lon: float) -> None:
    """Refuse a point more than 20 km beyond the city boundary."""
    distance = session.scalar(
        text(
            """
            SELECT ST_Distance(b.geom::geography,
                               ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
            FROM city_boundaries b WHERE b.code = :code
            """
        ),
        {"lat": lat, "lon": lon, "code": CITY_CODE},
    )
    if distance is not None and distance > MAX_OUTSIDE_CITY_M:
        raise OutsideCity(distance)


def circle_from_args(session: Session, args) -> Circle:
    """Read and check lat, lon and radius from query arguments."""
    lat, lon = parse_point(args)
    radius = parse_radius(args)
    check_near_city(session, lat, lon)
    return Circle(lat, lon, radius)


def parse_limit(args) -> int:
    """Read ?limit=, the most features to answer (1–1,000)."""
    value = _number(args, "limit")
    if value is None:
        return DEFAULT_LIMIT
    if value != int(value) or not 1 <= value <= MAX_LIMIT:
        raise BadInput(f"limit: must be a whole number from 1 to {MAX_LIMIT:,}")
    return int(value)


# The nearest public projects come straight off the geography index in distance order (KNN on
# the indexed expression geom::geography), so the cost follows the limit, not the radius: a 3 km
# circle in a dense city holds thousands of projects. One extra row tells whether more lie within
# the radius. The radius and distance_m are then measured exactly on the ellipsoid. Restrictions
# still to come or in force travel with each feature; lifted or past ones stay out.
NEARBY_SQL = text(
    """
    WITH here AS (
        SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g
    ), nearest AS (
        SELECT p.id, p.name, p.kind, p.status, p.progress, p.planned_start, p.planned_end,
               p.actual_start, p.actual_end, p.is_sample, p.geom,
               p.gsi_common_id IS NOT NULL AS designated_shelter,
               CASE WHEN p.gsi_common_id IS NOT NULL THEN p.address END AS shelter_address
        FROM projects p
        WHERE p.is_public
        ORDER BY p.geom::geography <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography
        LIMIT :limit + 1
    ), measured AS (
        SELECT n.*, ST_Distance(n.geom::geography, here.g) AS distance_m
        FROM nearest n, here
        WHERE ST_DWithin(n.geom::geography, here.g, :radius)
    ), hits AS (
        SELECT m.*, row_number() OVER (ORDER BY m.distance_m, m.id) AS rank FROM measured m
    )
    SELECT json_build_object(
        'type', 'FeatureCollection',
        'numberReturned', count(h.id) FILTER (WHERE h.rank <= :limit),
        'truncated', count(h.id) > :limit,
        'features', coalesce(json_agg(json_build_object(
            'type', 'Feature',
            'id', h.id,
            'geometry', ST_AsGeoJSON(h.geom, 6)::json,
            'properties', json_build_object(
                'id', h.id, 'name', h.name, 'kind', h.kind, 'status', h.status,
                'progress', h.progress, 'planned_start', h.planned_start,
                'planned_end', h.planned_end, 'actual_start', h.actual_start,
                'actual_end', h.actual_end, 'sample', h.is_sample,
                'designated_shelter', h.designated_shelter, 'address', h.shelter_address,
                'distance_m', round(h.distance_m::numeric, 1),
                'restrictions', (
                    SELECT coalesce(json_agg(json_build_object(
                        'kind', r.kind, 'starts_on', r.starts_on, 'ends_on', r.ends_on,
                        'description', r.description,
                        'in_force', r.starts_on <= :today
                    ) ORDER BY r.starts_on, r.id), '[]'::json)
                    FROM traffic_restrictions r
                    WHERE r.project_id = h.id AND r.ended_at IS NULL
                      AND (r.ends_on IS NULL OR r.ends_on >= :today)
                )
            )
        ) ORDER BY h.rank) FILTER (WHERE h.rank <= :limit), '[]'::json)
    )::text
    FROM hits h
    """
)


def nearby_params(circle: Circle, *, today: date, limit: int = DEFAULT_LIMIT) -> dict:
    """Return the bind parameters of NEARBY_SQL."""
    return circle.params() | {"today": today, "limit": limit}


def nearby_collection(
    session: Session, circle: Circle, *, today: date, limit: int = DEFAULT_LIMIT
) -> str:
    """Return public projects within the circle as GeoJSON text, nearest first."""
    return session.scalar(NEARBY_SQL, nearby_params(circle, today=today, limit=limit))


SHELTERS_SQL = text(
    """
    WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g)
    SELECT p.id, p.name, p.address, ST_Y(ST_PointOnSurface(p.geom)) AS lat,
           ST_X(ST_PointOnSurface(p.geom)) AS lon,
           ST_Distance(p.geom::geography, here.g) AS distance_m
    FROM projects p, here
    WHERE p.is_public AND p.kind = 'shelter' AND p.gsi_common_id IS NOT NULL
    ORDER BY p.geom::geography <-> here.g, p.id
    LIMIT :count
    """
)


@dataclass(frozen=True)
class Shelter:
    """A designated shelter (GSI) and how far it is."""

    id: int
    name: str
    address: str | None
    lat: float
    lon: float
    distance_m: float


def nearest_shelters(session: Session, lat: float, lon: float, count: int = 3) -> list[Shelter]:
    """Return the designated shelters nearest to the point, whatever the radius."""
    rows = session.execute(SHELTERS_SQL, {"lat": lat, "lon": lon, "count": count})
    return [Shelter(*row) for row in rows]


FEED_SQL = text(
    """
    WITH here AS (
        SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography AS g
    ), near AS (
        SELECT p.id, p.name, p.is_sample
        FROM projects p, here
        WHERE p.is_public AND ST_DWithin(p.geom::geography, here.g, :radius)
    )
    SELECT u.id, u.project_id, near.name, near.is_sample, u.recorded_at,
           u.previous_status, u.status, u.progress
    FROM status_updates u JOIN near ON near.id = u.project_id
    ORDER BY u.recorded_at DESC, u.id DESC
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class FeedEntry:
    """A public status change, or a project's first entry (previous_status is None)."""

    id: int
    project_id: int
    name: str
    is_sample: bool
    recorded_at: object
    previous_status: str | None
    status: str
    progress: int


def recent_changes(session: Session, circle: Circle, limit: int = 50) -> list[FeedEntry]:
    """Return the newest status changes and new projects within the circle."""
    rows = session.execute(FEED_SQL, circle.params() | {"limit": limit})
    return [FeedEntry(*row) for row in rows]
