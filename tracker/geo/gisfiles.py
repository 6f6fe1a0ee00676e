"""GIS files as they come: zipped Shapefiles and their encodings, and coordinate systems
turned into lon/lat (JGD2011, stored as 4326) with PROJ."""

import io
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from tracker.core.errors import BadInput

# What a zip may unpack to, so that a small archive cannot fill the disk.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# What the app stores: JGD2011 lon/lat, the same as WGS84 at map scale.
TARGET = CRS.from_epsg(6668)


class UnknownCrs(BadInput):
    """A coordinate system that cannot be read or turned into lon/lat."""


def read_crs(value: object, where: str) -> CRS:
    """Return the CRS a file declares (an EPSG code, WKT or a .prj text), or refuse it."""
    try:
        crs = CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError):
        raise UnknownCrs(
            f"座標系を読み取れません（{str(value)[:60]}）。EPSGコードを指定してください",
            field=where,
        ) from None
    if crs.is_geocentric or not (crs.is_geographic or crs.is_projected):
        raise UnknownCrs(
            f"経緯度にも平面直角座標にも変換できない座標系です（{crs.name}）", field=where
        )
    return crs


def describe(crs: CRS, *, datum_note: bool = True) -> str:
    """Name a CRS for people: 'EPSG:6670 JGD2011 / Japan Plane Rectangular CS II', with a
    word on the old Japanese datum unless `datum_note` is false (the caller says it)."""
    code = crs.to_epsg()
    name = f"EPSG:{code} {crs.name}" if code else crs.name
    if datum_note and on_tokyo_datum(crs):
        name += "（日本測地系：世界測地系に変換します）"
    return name


def on_tokyo_datum(crs: CRS) -> bool:
    """Tell whether a CRS stands on the old Japanese datum (日本測地系), moved on reading."""
    datum = crs.geodetic_crs.datum if crs.geodetic_crs is not None else None
    return datum is not None and datum.name.startswith("Tokyo")


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

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        coords[:, 0], coords[:, 1] = x, y
        return coords

    # One call for every coordinate of the file: a pyproj call per shape costs more.
    return list(shapely.transform(np.array(geoms, dtype=object), move))


def extract_shapefiles(data: bytes, folder: Path) -> list[Path]:
    """Unpack the Shapefiles of a zip into `folder` and return their .shp, refusing a bad archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise BadInput("zip を展開すると大きすぎます", field="file")
        shps = sorted(m.filename for m in members if m.filename.lower().endswith(".shp"))
        if not shps:
            raise BadInput("zip に Shapefile（.shp）がありません", field="file")
        paths = []
        for number, shp in enumerate(shps, start=1):
            stem = shp[:-4]
            parts = {
                m.filename[-4:].lower(): m
                for m in members
                if m.filename[: len(stem)] == stem and len(m.filename) == len(stem) + 4
            }
            missing = [ext for ext in (".shx", ".dbf") if ext not in parts]
            if missing:
                raise BadInput(
                    f"zip の {shp} に {' と '.join(missing)} がありません"
                    "（Shapefile は .shp .shx .dbf .prj を一緒に）",
                    field="file",
                )
            # Only the Shapefile's own parts, under names of our own: no path from the
            # archive is used; the file's own name is kept for the notes.
            target = folder / str(number)
            target.mkdir()
            name = Path(stem).name or f"layer{number}"
            for ext, member in parts.items():
                (target / f"{name}{ext}").write_bytes(archive.read(member))
            paths.append(target / f"{name}.shp")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise BadInput(f"zip が壊れているか途中で切れています（{exc}）", field="file") from None
    return paths


def cpg_encoding(text: str) -> str:
    """Return the Python codec a Shapefile's .cpg names (UTF-8 or cp932), or refuse it."""
    value = text.strip().upper().replace("-", "").replace("_", "")
    if value in ("UTF8", "65001"):
        return "utf-8"
    if value in ("932", "CP932", "SJIS", "SHIFTJIS", "WINDOWS31J", "MS932", "ANSI932"):
        return "cp932"
    raise BadInput(
        f".cpg の文字コード {text.strip()[:20]} は読めません（UTF-8 か 932）", field="file"
    )
