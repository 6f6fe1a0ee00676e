"""Coordinate reference systems of OGC API – Features Part 2: which ones, and their axis order."""

import math
from dataclasses import dataclass

from tracker.core.translate import gettext as _
from tracker.ogc.refusals import InvalidParameter

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"


@dataclass(frozen=True)
class Crs:
    """A CRS the API answers in: its URI, its PostGIS SRID and how coordinates are written."""

    uri: str
    srid: int
    # EPSG:6668 is latitude first and EPSG:6670 northing (X) first; PostGIS writes
    # easting/longitude first, so their coordinates are flipped on the way out and in.
    north_first: bool
    # Decimals that keep about a millimetre: degrees or metres.
    decimals: int
    label: str


CRS84 = Crs(CRS84_URI, 4326, False, 8, "WGS 84 (CRS84)")
JGD2011 = Crs(EPSG_URI.format(code=6668), 6668, True, 8, "JGD2011")
# Kumamoto lies in zone II of the Japan Plane Rectangular Coordinate System.
JGD2011_ZONE_II = Crs(EPSG_URI.format(code=6670), 6670, True, 3, "JGD2011 / 平面直角座標系 II系")

SUPPORTED = (CRS84, JGD2011, JGD2011_ZONE_II)
_BY_NAME = {crs.uri: crs for crs in SUPPORTED}
# Short spellings people type; the answers always name the URI.
_BY_NAME |= {f"EPSG:{crs.srid}": crs for crs in SUPPORTED if crs is not CRS84}
_BY_NAME |= {"OGC:CRS84": CRS84, "[OGC:CRS84]": CRS84}
_BY_NAME |= {f"[EPSG:{crs.srid}]": crs for crs in SUPPORTED if crs is not CRS84}


def parse_crs(raw: str | None, name: str) -> Crs:
    """Read a crs= or bbox-crs= value; CRS84 when absent."""
    if raw is None or not raw.strip():
        return CRS84
    crs = _BY_NAME.get(raw.strip())
    if crs is None:
        raise InvalidParameter(
            name,
            _(
                "対応していない座標参照系です（%(value)s）。%(known)s のどれかを指定してください",
                value=raw[:100],
                known=_("、").join(c.uri for c in SUPPORTED),
            ),
        )
    return crs


# filter-crs also takes EPSG:4326, the CRS84 of GIS programs with latitude first.
WGS84_LATITUDE_FIRST = Crs(EPSG_URI.format(code=4326), 4326, True, 8, "WGS 84")
FILTER_CRS = (*SUPPORTED, WGS84_LATITUDE_FIRST)
_FILTER_BY_NAME = _BY_NAME | {
    WGS84_LATITUDE_FIRST.uri: WGS84_LATITUDE_FIRST,
    "EPSG:4326": WGS84_LATITUDE_FIRST,
    "[EPSG:4326]": WGS84_LATITUDE_FIRST,
}


def filter_crs(raw: str | None) -> Crs:
    """Read filter-crs= (the CRS of a filter's geometries); CRS84 when absent."""
    if raw is None or not raw.strip():
        return CRS84
    crs = _FILTER_BY_NAME.get(raw.strip())
    if crs is None:
        raise InvalidParameter(
            "filter-crs",
            _(
                "対応していない座標参照系です（%(value)s）。%(known)s のどれかを指定してください",
                value=raw[:100],
                known=_("、").join(c.uri for c in FILTER_CRS),
            ),
        )
    return crs


def content_crs_header(crs: Crs) -> str:
    """Return the Content-Crs header value for answers in this CRS."""
    return f"<{crs.uri}>"


def parse_bbox(raw: str | None, crs: Crs) -> tuple[float, float, float, float] | None:
    """Read bbox= in the axis order of its CRS; return it as PostGIS (x, y) minima and maxima."""
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 6:  # with heights, which 2D data ignores
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidParameter(
            "bbox",
            _("下の角、上の角の順に、bbox-crs の軸の順で4つの数値を指定してください"),
        )
    a1, b1, a2, b2 = numbers
    if crs.north_first:
        a1, b1, a2, b2 = b1, a1, b2, a2
    min_x, min_y, max_x, max_y = a1, b1, a2, b2
    if crs.srid == 4326 and not (-180 <= min_x <= 180 and -180 <= max_x <= 180):
        raise InvalidParameter("bbox", _("経度は ±180 以内で指定してください"))
    if crs.srid in (4326, 6668) and not (-90 <= min_y <= max_y <= 90):
        raise InvalidParameter("bbox", _("緯度は ±90 以内で、小さいほうを先に指定してください"))
    if min_x > max_x or min_y > max_y:
        raise InvalidParameter("bbox", _("下の角（小さいほうの値）を先に指定してください"))
    return min_x, min_y, max_x, max_y
