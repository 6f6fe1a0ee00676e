"""Coordinate systems of imported files, turned into lon/lat (JGD2011, stored as 4326)."""

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from tracker.errors import BadInput

# What the app stores: JGD2011 lon/lat, the same as WGS84 at map scale.
TARGET = CRS.from_epsg(6668)


class UnknownCrs(BadInput):
    """A coordinate system that cannot be read or turned into lon/lat."""


def read_crs(value, where: str) -> CRS:
    """Return the CRS a file declares (an EPSG code, WKT or a .prj text), or refuse it."""
    try:
        crs = CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError):
        raise UnknownCrs(
            f"{where}: 座標系を読み取れません（{str(value)[:60]}）。EPSGコードを指定してください"
        ) from None
    if crs.is_geocentric or not (crs.is_geographic or crs.is_projected):
        raise UnknownCrs(f"{where}: 経緯度にも平面直角座標にも変換できない座標系です（{crs.name}）")
    return crs


def describe(crs: CRS) -> str:
    """Name a CRS for people: 'EPSG:6670 JGD2011 / Japan Plane Rectangular CS II'."""
    code = crs.to_epsg()
    name = f"EPSG:{code} {crs.name}" if code else crs.name
    if crs.geodetic_crs is not None and crs.geodetic_crs.datum.name.startswith("Tokyo"):
        name += "（日本測地系：世界測地系に変換します）"
    return name


def transformer_to_lonlat(crs: CRS) -> Transformer | None:
    """Return the transformation to JGD2011 lon/lat, or None when none is needed."""
    if crs.equals(TARGET, ignore_axis_order=True) or crs.to_epsg() in (4326, 6668):
        return None
    transformer = Transformer.from_crs(crs, TARGET, always_xy=True)
    # A ballpark operation would take another datum as JGD2011 (日本測地系 is ~400 m off).
    if "ballpark" in transformer.description.lower():
        raise UnknownCrs(f"座標系 {crs.name} から世界測地系への変換方法がありません")
    return transformer


def to_lonlat(geoms: list[BaseGeometry | None], crs: CRS) -> list[BaseGeometry | None]:
    """Return the geometries in JGD2011 lon/lat."""
    transformer = transformer_to_lonlat(crs)
    if transformer is None:
        return geoms

    def move(coords):
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        coords[:, 0], coords[:, 1] = x, y
        return coords

    # One call for every coordinate of the file: a pyproj call per shape costs more.
    return list(shapely.transform(np.array(geoms, dtype=object), move))
