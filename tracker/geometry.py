"""Parse and check project geometries before anything is stored."""

import json
import math

import shapely
from flask_babel import gettext as _
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity, make_valid
from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker.errors import BadInput
from tracker.limits import NESTING_MAX, VERTICES_MAX, nesting_depth
from tracker.vocab import KINDS, LINE_KINDS, N_, kind_label

# Points drawn on a phone at the city's edge may fall just outside the simplified boundary.
BOUNDARY_TOLERANCE_M = 500
CITY_CODE = "43214"

# Shapes that are not of a project, by the subject check_form names them with.
SHAPE_SUBJECTS = {"restriction": N_("規制区間"), "detour": N_("迂回路")}
LINE_TYPES = ("LineString", "MultiLineString")

ALLOWED_TYPES = {
    "line": ("LineString", "MultiLineString"),
    "other": ("Point", "MultiPoint", "Polygon", "MultiPolygon", "LineString", "MultiLineString"),
}


class GeometryRefused(BadInput):
    """A geometry that cannot be stored; `repaired` holds a valid shape to offer, if any.

    `reason` names the refusal (missing, nesting, parse, empty, vertices, invalid, type,
    coordinates, outside)
    and `details` its figures, so that pages can say why in the reader's language.
    """

    def __init__(
        self,
        message: str,
        repaired: BaseGeometry | None = None,
        *,
        reason: str = "parse",
        details: dict | None = None,
    ):
        super().__init__(message)
        self.repaired = repaired
        self.reason = reason
        self.details = details or {}


def parse_geometry(value) -> BaseGeometry:
    """Read a GeoJSON geometry (dict or text) or WKT text into a shapely geometry."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise GeometryRefused("geometry is missing", reason="missing")
    if isinstance(value, str) and nesting_depth(value) > NESTING_MAX:
        # The JSON and WKT parsers recurse: thousands of brackets crash them, not refuse.
        raise GeometryRefused(
            f"geometry is nested deeper than {NESTING_MAX} levels",
            reason="nesting",
            details={"limit": NESTING_MAX},
        )
    try:
        if isinstance(value, dict):
            geom = shape(value)
        elif value.lstrip().startswith("{"):
            data = json.loads(value)
            geom = shape(data.get("geometry", data) if data.get("type") == "Feature" else data)
        else:
            geom = shapely.from_wkt(value)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError) as exc:
        raise GeometryRefused(
            f"geometry does not parse as GeoJSON or WKT: {exc}",
            reason="parse",
            details={"problem": str(exc)},
        ) from None
    if geom.is_empty:
        raise GeometryRefused("geometry is empty", reason="empty")
    return geom


def flat_geometry(geometry: BaseGeometry) -> BaseGeometry:
    """Return the geometry without heights (a GPS may add them), refusing NaN or infinity."""
    if not all(map(math.isfinite, shapely.get_coordinates(geometry).flat)):
        raise GeometryRefused(
            "coordinates must be finite numbers (no NaN or Infinity)", reason="coordinates"
        )
    return shapely.force_2d(geometry)


def check_geometry(session: Session, geom: BaseGeometry, kind: str) -> BaseGeometry:
    """Refuse an invalid geometry, one of the wrong type for its kind, or one outside the city."""
    check_shape(geom, kind)
    check_inside_city(distance_outside_city(session, geom))
    return geom


def check_shape(geom: BaseGeometry, kind: str) -> BaseGeometry:
    """Refuse a project's shape: too many vertices, invalid, of the wrong type for its kind,
    or not in lon/lat."""
    if kind not in KINDS:
        raise BadInput(f"kind: unknown kind {kind!r}")
    allowed = ALLOWED_TYPES["line" if kind in LINE_KINDS else "other"]
    return check_form(geom, allowed, subject=kind)


def check_placed(
    session: Session, geom: BaseGeometry, allowed: tuple[str, ...], *, subject: str
) -> BaseGeometry:
    """Refuse a shape that `check_form` refuses or one outside the city."""
    check_form(geom, allowed, subject=subject)
    check_inside_city(distance_outside_city(session, geom))
    return geom


def check_form(geom: BaseGeometry, allowed: tuple[str, ...], *, subject: str) -> BaseGeometry:
    """Refuse a shape with too many vertices, an invalid one, one whose type is not `allowed`,
    or one not in lon/lat.

    `subject` names what the shape is of (a project kind, or "restriction", "detour",
    "facility") in a refusal, so that pages can say which shape was wrong.
    """
    vertices = shapely.get_num_coordinates(geom)
    if vertices > VERTICES_MAX:
        raise GeometryRefused(
            f"geometry has {vertices:,} vertices; at most {VERTICES_MAX:,} are kept",
            reason="vertices",
            details={"vertices": vertices, "limit": VERTICES_MAX},
        )
    if not geom.is_valid:
        problem = explain_validity(geom)
        raise GeometryRefused(
            f"geometry is invalid ({problem}); the repaired shape is offered instead",
            repaired=make_valid(geom),
            reason="invalid",
            details={"problem": problem, "subject": subject},
        )
    if geom.geom_type not in allowed:
        what = f"kind {subject} ({KINDS[subject]})" if subject in KINDS else f"a {subject}"
        raise GeometryRefused(
            f"geometry type {geom.geom_type} does not fit {what}: use {' or '.join(allowed)}",
            reason="type",
            details={"type": geom.geom_type, "kind": subject, "allowed": allowed},
        )
    x_min, y_min, x_max, y_max = geom.bounds
    if not (is_lon_lat(x_min, y_min) and is_lon_lat(x_max, y_max)):
        raise GeometryRefused(
            "coordinates are not longitude/latitude (lon first, then lat)", reason="coordinates"
        )
    return geom


def check_inside_city(distance: float | None) -> None:
    """Refuse a geometry reaching farther than the tolerance outside the city boundary."""
    if distance is not None and distance > BOUNDARY_TOLERANCE_M:
        raise GeometryRefused(
            f"geometry lies {distance / 1000:.1f} km outside the Aso City boundary "
            f"(tolerance {BOUNDARY_TOLERANCE_M} m)",
            reason="outside",
            details={"distance_m": distance, "tolerance_m": BOUNDARY_TOLERANCE_M},
        )


def is_lon_lat(lon: float, lat: float) -> bool:
    """Tell whether a pair is a longitude and a latitude (NaN and infinity are not)."""
    return -180 <= lon <= 180 and -90 <= lat <= 90


def check_lon_lat(lon: float, lat: float, *, field: str | None = None) -> tuple[float, float]:
    """Return (lon, lat), refusing a latitude or longitude out of range.

    The message names `field`, or else whichever of lat and lon is wrong.
    """
    for name, value, bound in (("lat", lat, 90), ("lon", lon, 180)):
        if not -bound <= value <= bound:
            prefix = f"{field}: {name}" if field else name
            raise BadInput(f"{prefix}: must be between -{bound} and {bound}, not {value:g}")
    return lon, lat


def distance_outside_city(session: Session, geom: BaseGeometry) -> float | None:
    """Return how far (metres) the geometry reaches outside the city, or None if no boundary."""
    return distances_outside_city(session, [geom])[0]


# The farthest vertex decides; geography gives metres on the ellipsoid. Shapes the boundary
# covers are 0 without measuring, which keeps a file of thousands of works quick.
DISTANCES_SQL = text(
    """
    SELECT u.i, CASE WHEN ST_Covers(b.geom, g.geom) THEN 0 ELSE (
               SELECT max(ST_Distance(geography((dp).geom), geography(b.geom)))
               FROM ST_DumpPoints(g.geom) dp) END
    FROM city_boundaries b,
         unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS u(wkb, i),
         LATERAL (SELECT ST_GeomFromWKB(u.wkb, 4326) AS geom) g
    WHERE b.code = :code
    """
)


def distances_outside_city(session: Session, geoms: list[BaseGeometry]) -> list[float | None]:
    """Return for each geometry how far (metres) it reaches outside the city (None: no boundary)."""
    if not geoms:
        return []
    rows = session.execute(
        DISTANCES_SQL, {"wkbs": [shapely.to_wkb(g) for g in geoms], "code": CITY_CODE}
    ).all()
    found = {int(i): float(d) for i, d in rows}
    return [found.get(i) for i in range(1, len(geoms) + 1)]


def to_geojson(geom: BaseGeometry) -> dict:
    """Return the geometry as a GeoJSON dict."""
    return mapping(geom)


def geometry_refusal_text(error: GeometryRefused) -> str:
    """Say in the reader's language why a geometry was refused."""
    details = error.details
    if error.reason == "missing":
        return _("位置・形状がありません。地図に描くか、GeoJSON / WKT を貼り付けてください。")
    if error.reason == "empty":
        return _("位置・形状が空です。")
    if error.reason == "invalid":
        return _(
            "形状が不正です（%(problem)s）。線が自分自身と交差している可能性があります。"
            "修正した形を地図に表示しました。確認して「修正した形を使う」を押してください。",
            problem=details.get("problem", ""),
        )
    if error.reason == "type" and details.get("kind") in SHAPE_SUBJECTS:
        return _(
            "%(what)sには %(type)s の形は使えません。線で描いてください。",
            what=_(SHAPE_SUBJECTS[details["kind"]]),
            type=details.get("type"),
        )
    if error.reason == "type":
        allowed = details.get("allowed", ())
        if "Point" in allowed:
            expected = _("点・線・面")
        else:
            expected = _("線（道路・舗装・護岸は延長で管理します）")
        return _(
            "「%(kind)s」には %(type)s の形は使えません。%(expected)s で描いてください。",
            kind=kind_label(details.get("kind")),
            type=details.get("type"),
            expected=expected,
        )
    if error.reason == "nesting":
        return _("位置・形状の入れ子が深すぎます（%(limit)d段まで）。", limit=details["limit"])
    if error.reason == "vertices":
        return _(
            "頂点が多すぎます（%(vertices)d点、上限%(limit)d点）。形を簡略化してください。",
            vertices=details["vertices"],
            limit=details["limit"],
        )
    if error.reason == "coordinates":
        return _("座標が経度・緯度になっていません（経度、緯度の順で指定してください）。")
    if error.reason == "outside":
        return _(
            "阿蘇市の区域から約 %(km).1f km 外れています（許容 %(tolerance)d m）。位置を確認してください。",
            km=details.get("distance_m", 0) / 1000,
            tolerance=details.get("tolerance_m", 0),
        )
    return _(
        "GeoJSON または WKT として読み取れません（%(problem)s）。",
        problem=details.get("problem", str(error)),
    )
