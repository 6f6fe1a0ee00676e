"""Parse and check project geometries before anything is stored.

A refused geometry is explained in words in the reader's language, never with the text of the
libraries underneath (GEOS, numpy), and where the problem lies on the map it says where.
"""

import json
import math
import re
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity, make_valid
from sqlalchemy import ColumnElement, Float, bindparam, func, text
from sqlalchemy.orm import Session

from tracker.core.errors import BadInput
from tracker.core.limits import NESTING_MAX, VERTICES_MAX, nesting_depth
from tracker.core.translate import gettext as _
from tracker.words.vocab import KINDS, LINE_KINDS, N_, kind_label, shape_label

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
# How deep each GeoJSON type nests its positions: a Point is one, a LineString a list of them.
POSITION_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "Polygon": 2,
    "MultiLineString": 2,
    "MultiPolygon": 3,
}
# GEOS says why a shape is invalid as "<problem>[x y]"; the problem in words, by its name.
INVALID_PROBLEMS = {
    "Self-intersection": "self_intersection",
    "Ring Self-intersection": "self_intersection",
    "Too few points in geometry component": "too_few_points",
    "Hole lies outside shell": "hole_outside",
    "Nested holes": "nested",
    "Nested shells": "nested",
    "Interior is disconnected": "disconnected",
    "Duplicate Rings": "duplicate_rings",
    "Ring is not closed": "not_closed",
    "Invalid Coordinate": "invalid_coordinate",
}
_GEOS_PLACE = re.compile(r"^(?P<problem>[^\[]*)\[(?P<x>\S+) (?P<y>\S+)\]$")


class GeometryRefused(BadInput):
    """A geometry that cannot be stored, said in words; `repaired` holds a valid shape to offer.

    `reason` names the refusal (missing, nesting, parse, empty, vertices, invalid, type,
    not_finite, not_lon_lat, outside), `details` its figures, and `location` (lon, lat) where
    it lies, if anywhere.
    """

    def __init__(
        self,
        message: str,
        repaired: BaseGeometry | None = None,
        *,
        reason: str = "parse",
        details: dict | None = None,
        location: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(message, code=f"geometry_{reason}", field="geometry")
        self.repaired = repaired
        self.reason = reason
        self.details = details or {}
        self.location = location


def parse_geometry(value: Any) -> BaseGeometry:
    """Read a GeoJSON geometry (dict or text) or WKT text into a shapely geometry."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise GeometryRefused(
            _("位置・形状がありません。地図に描くか、GeoJSON / WKT を貼り付けてください。"),
            reason="missing",
        )
    if isinstance(value, str) and nesting_depth(value) > NESTING_MAX:
        # The JSON and WKT parsers recurse: thousands of brackets crash them, not refuse.
        raise GeometryRefused(
            _("位置・形状の入れ子が深すぎます（%(limit)d段まで）。", limit=NESTING_MAX),
            reason="nesting",
            details={"limit": NESTING_MAX},
        )
    if isinstance(value, dict):
        geom = _from_geojson(value)
    elif value.lstrip().startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            raise _unreadable(_("JSON の書き方に誤りがあります")) from None
        if isinstance(data, dict) and data.get("type") == "Feature":
            data = data.get("geometry")
        geom = _from_geojson(data)
    else:
        try:
            geom = shapely.from_wkt(value)
        except shapely.errors.ShapelyError:
            raise _unreadable(_("WKT の書き方に誤りがあります")) from None
    if geom.is_empty:
        raise GeometryRefused(_("位置・形状が空です。"), reason="empty")
    return geom


def _unreadable(problem: str) -> GeometryRefused:
    return GeometryRefused(
        _("GeoJSON または WKT として読み取れません（%(problem)s）。", problem=problem),
        reason="parse",
        details={"problem": problem},
    )


def _from_geojson(data: Any) -> BaseGeometry:
    """Build a geometry from a GeoJSON dict, checking its structure first, in words."""
    if not isinstance(data, dict):
        raise _unreadable(_("ジオメトリのオブジェクトではありません"))
    kind = data.get("type")
    if not isinstance(kind, str | None):
        # A list or an object as the type ({"type": ["Point"]}) names no kind of shape.
        raise _unreadable(_("type は文字列で指定してください"))
    if kind == "GeometryCollection":
        parts = data.get("geometries")
        if not isinstance(parts, list):
            raise _unreadable(_("geometries が配列ではありません"))
        return shapely.GeometryCollection([_from_geojson(part) for part in parts])
    if kind not in POSITION_DEPTH:
        raise _unreadable(
            _("「%(type)s」という種類の形はありません", type=str(kind)[:40])
            if kind is not None
            else _("type がありません")
        )
    coordinates = _positions(data.get("coordinates"), POSITION_DEPTH[kind])
    try:
        return shape({"type": kind, "coordinates": coordinates})
    except (ValueError, TypeError, shapely.errors.ShapelyError):
        # Too few positions for the type, such as a line of one point.
        raise _unreadable(_("%(type)s として点の数が足りません", type=kind)) from None


def _positions(value: Any, depth: int) -> list:
    """Return the coordinates with each position cut to [lon, lat], refusing other shapes.

    A height (a third number, as a GPS adds) is dropped here, so that a line whose points
    mix heights and none still reads as one line.
    """
    if depth == 0:
        numbers = value if isinstance(value, list) else None
        if (
            not numbers
            or len(numbers) < 2
            or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers)
        ):
            raise _unreadable(_("位置は [経度, 緯度] の数値の組で書いてください"))
        return [float(numbers[0]), float(numbers[1])]
    if not isinstance(value, list):
        raise _unreadable(_("coordinates が配列になっていません"))
    return [_positions(item, depth - 1) for item in value]


def flat_geometry(geometry: BaseGeometry) -> BaseGeometry:
    """Return the geometry without heights (a GPS may add them), refusing NaN or infinity."""
    if not all(map(math.isfinite, shapely.get_coordinates(geometry).flat)):
        raise GeometryRefused(
            _("座標に数値でない値（NaN・無限大）があります。"), reason="not_finite"
        )
    return shapely.force_2d(geometry)


def check_geometry(
    session: Session, geom: BaseGeometry, kind: str, *, point_allowed: bool = False
) -> BaseGeometry:
    """Refuse an invalid geometry, one of the wrong type for its kind, or one outside the city
    (`point_allowed`: as check_shape)."""
    check_shape(geom, kind, point_allowed=point_allowed)
    check_inside_city(farthest_outside_city(session, geom))
    return geom


def check_shape(geom: BaseGeometry, kind: str, *, point_allowed: bool = False) -> BaseGeometry:
    """Refuse a project's shape: too many vertices, invalid, of the wrong type for its kind,
    or not in lon/lat. `point_allowed` lets a line kind be one point (its position only)."""
    if kind not in KINDS:
        raise BadInput(_("不明な種別です: %(kind)s", kind=kind), code="unknown_value", field="kind")
    allowed = ALLOWED_TYPES["line" if kind in LINE_KINDS else "other"]
    if point_allowed and kind in LINE_KINDS:
        allowed = (*allowed, "Point")
    return check_form(geom, allowed, subject=kind)


def is_position_only(geom: BaseGeometry, kind: str) -> bool:
    """Tell whether a work measured along its length is stored as a point (position only)."""
    return kind in LINE_KINDS and geom.geom_type == "Point"


def check_placed(
    session: Session, geom: BaseGeometry, allowed: tuple[str, ...], *, subject: str
) -> BaseGeometry:
    """Refuse a shape that `check_form` refuses or one outside the city."""
    check_form(geom, allowed, subject=subject)
    check_inside_city(farthest_outside_city(session, geom))
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
            _(
                "頂点が多すぎます（%(vertices)s点、上限%(limit)s点）。形を簡略化してください。",
                vertices=f"{vertices:,}",
                limit=f"{VERTICES_MAX:,}",
            ),
            reason="vertices",
            details={"vertices": vertices, "limit": VERTICES_MAX},
        )
    if not geom.is_valid:
        raise _invalid(geom, subject)
    if geom.geom_type not in allowed:
        if subject in KINDS:
            expected = (
                _("点・線・面")
                if "Polygon" in allowed
                else _("線（道路・舗装・護岸は延長で管理します）")
            )
            what = _("「%(kind)s」", kind=kind_label(subject))
        else:
            expected = _("一本の線") if "LineString" in allowed else _("一つの点")
            what = _(SHAPE_SUBJECTS.get(subject, N_("施設の位置")))
        raise GeometryRefused(
            _(
                "%(what)sには%(shape)sの形は使えません。%(expected)sで描いてください。",
                what=what,
                shape=shape_label(geom.geom_type),
                expected=expected,
            ),
            reason="type",
            details={"type": geom.geom_type, "kind": subject, "allowed": allowed},
        )
    x_min, y_min, x_max, y_max = geom.bounds
    if not (is_lon_lat(x_min, y_min) and is_lon_lat(x_max, y_max)):
        raise GeometryRefused(
            _("座標が経度・緯度になっていません（経度、緯度の順で指定してください）。"),
            reason="not_lon_lat",
        )
    return geom


def check_inside_city(outside: tuple[float, float, float] | None) -> None:
    """Refuse a geometry reaching farther than the tolerance outside the city boundary.

    `outside` is (metres, lon, lat) of its farthest vertex, as farthest_outside_city gives.
    """
    if outside is not None and outside[0] > BOUNDARY_TOLERANCE_M:
        distance, lon, lat = outside
        raise GeometryRefused(
            _(
                "阿蘇市の区域から約 %(km).1f km 外れています（許容 %(tolerance)d m）。"
                "地図に印を付けた点の位置を確認してください。",
                km=distance / 1000,
                tolerance=BOUNDARY_TOLERANCE_M,
            ),
            reason="outside",
            details={"distance_m": distance, "tolerance_m": BOUNDARY_TOLERANCE_M},
            location=(lon, lat),
        )


def _invalid(geom: BaseGeometry, subject: str) -> GeometryRefused:
    """Say why a shape is invalid and where, and offer it repaired."""
    found = _GEOS_PLACE.match(explain_validity(geom))
    problem = INVALID_PROBLEMS.get(found.group("problem").strip() if found else "", "other")
    location = None
    if found:
        try:
            location = (float(found.group("x")), float(found.group("y")))
        except ValueError:
            location = None
    words = {
        "self_intersection": _("線が自分自身と交差しています"),
        "too_few_points": _("点の数が足りません"),
        "hole_outside": _("穴が面の外にあります"),
        "nested": _("輪が入れ子になっています"),
        "disconnected": _("面の内側が途中で切れています"),
        "duplicate_rings": _("同じ輪が重なっています"),
        "not_closed": _("輪が閉じていません"),
        "invalid_coordinate": _("座標に誤りがあります"),
        "other": _("形が正しくありません"),
    }[problem]
    if location is not None:
        where = _(
            "地図に印を付けた所（経度 %(lon).5f、緯度 %(lat).5f 付近）",
            lon=location[0],
            lat=location[1],
        )
        message = _(
            "形状が不正です: %(where)sで%(problem)s。修正した形を地図にオレンジの破線で表示しました。"
            "確認して「修正した形を使う」を押してください。",
            where=where,
            problem=words,
        )
    else:
        message = _(
            "形状が不正です: %(problem)s。修正した形を地図にオレンジの破線で表示しました。"
            "確認して「修正した形を使う」を押してください。",
            problem=words,
        )
    return GeometryRefused(
        message,
        repaired=make_valid(geom),
        reason="invalid",
        details={"problem": problem, "subject": subject},
        location=location,
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
            words = (
                _("緯度は -90〜90 の範囲で指定してください（%(value)s）", value=format(value, "g"))
                if name == "lat"
                else _(
                    "経度は -180〜180 の範囲で指定してください（%(value)s）",
                    value=format(value, "g"),
                )
            )
            raise BadInput(words, code="out_of_range", field=field or name)
    return lon, lat


def distance_outside_city(session: Session, geom: BaseGeometry) -> float | None:
    """Return how far (metres) the geometry reaches outside the city, or None if no boundary."""
    outside = farthest_outside_city(session, geom)
    return None if outside is None else outside[0]


def farthest_outside_city(
    session: Session, geom: BaseGeometry
) -> tuple[float, float, float] | None:
    """Return (metres, lon, lat) of the vertex farthest outside the city, or None if no boundary."""
    return farthest_outside_city_each(session, [geom])[0]


# The farthest vertex decides; geography gives metres on the ellipsoid. Shapes the boundary
# covers are 0 without measuring, which keeps a file of thousands of works quick.
FARTHEST_SQL = text(
    """
    SELECT u.i, far.metres, far.lon, far.lat
    FROM city_boundaries b,
         unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS u(wkb, i),
         LATERAL (SELECT ST_GeomFromWKB(u.wkb, 4326) AS geom) g,
         LATERAL (
             SELECT 0.0 AS metres, NULL::float8 AS lon, NULL::float8 AS lat
             WHERE ST_Covers(b.geom, g.geom)
             UNION ALL (
                 SELECT ST_Distance(geography((dp).geom), geography(b.geom)),
                        ST_X((dp).geom), ST_Y((dp).geom)
                 FROM ST_DumpPoints(g.geom) dp
                 WHERE NOT ST_Covers(b.geom, g.geom)
                 ORDER BY 1 DESC
                 LIMIT 1
             )
         ) far
    WHERE b.code = :code
    """
)


def farthest_outside_city_each(
    session: Session, geoms: list[BaseGeometry]
) -> list[tuple[float, float, float] | None]:
    """Return for each geometry (metres, lon, lat) of its vertex farthest outside the city.

    None stands for no boundary loaded; a shape inside the city is (0, None, None).
    """
    if not geoms:
        return []
    rows = session.execute(
        FARTHEST_SQL, {"wkbs": [shapely.to_wkb(g) for g in geoms], "code": CITY_CODE}
    ).all()
    found = {int(i): (float(m), lon, lat) for i, m, lon, lat in rows}
    return [found.get(i) for i in range(1, len(geoms) + 1)]


def to_geojson(geom: BaseGeometry) -> dict:
    """Return the geometry as a GeoJSON dict."""
    return mapping(geom)


def point_parameter() -> ColumnElement[Any]:
    """Return the point (SRID 4326) of the bound parameters `lon` and `lat`: statements built
    once and run for any place take it."""
    lon, lat = bindparam("lon", type_=Float), bindparam("lat", type_=Float)
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def in_circle(geography: ColumnElement[Any]) -> ColumnElement[bool]:
    """Return whether `geography` lies within the bound `radius` (metres, on the ellipsoid)
    of point_parameter(): the circle of a nearby page, a feed or a place's reports."""
    centre = func.geography(point_parameter())
    return func.ST_DWithin(geography, centre, bindparam("radius", type_=Float))
