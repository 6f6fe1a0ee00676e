"""Load a national hazard layer from its published Shapefile, replacing the layer at once.

The file is read as published: cp932 .dbf (or what its .cpg says), JGD2011 (or what its .prj
says, transformed), attribute codes mapped through tracker.hazards.codes. Zones outside the
city are left out. Anything the table does not know is refused, naming it; nothing is written.
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.validation import make_valid
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from tracker.core import clock
from tracker.core.db import rows_changed
from tracker.core.errors import BadInput
from tracker.geo.geometry import CITY_CODE
from tracker.geo.gisfiles import cpg_encoding, describe, extract_shapefiles, read_crs, to_lonlat
from tracker.hazards.codes import HAZARD_LAYER, LAYERS, LAYOUTS
from tracker.hazards.models import HazardLayer, HazardZone

# A prefecture's layer, zipped, as published.
MAX_HAZARD_FILE_BYTES = 80 * 1024 * 1024


@dataclass
class HazardLoad:
    """What a load did: zones kept inside the city, left out, repaired; what was detected."""

    layer: str
    source_name: str
    read: int = 0
    kept: int = 0
    repaired: int = 0
    notes: list[str] = field(default_factory=list)


def load_hazard_file(session: Session, data: bytes, filename: str, layer: str) -> HazardLoad:
    """Read a zipped Shapefile of the layer and replace the stored layer with its zones."""
    if layer not in LAYERS:
        raise BadInput(f"{layer} は読めません（{', '.join(LAYERS)}）", field="kind")
    if len(data) > MAX_HAZARD_FILE_BYTES:
        raise BadInput(
            f"{len(data) / 1024 / 1024:.0f} MB は大きすぎます"
            f"（{MAX_HAZARD_FILE_BYTES >> 20} MB まで）",
            field="file",
        )
    if not filename.lower().endswith(".zip"):
        raise BadInput(
            "Shapefile（.shp .shx .dbf .prj）を固めた .zip を選んでください", field="file"
        )
    result = HazardLoad(layer, Path(filename).name)
    zones: list[tuple[str, str, str, bytes]] = []
    with tempfile.TemporaryDirectory() as folder:
        for shp in extract_shapefiles(data, Path(folder)):
            zones += _read_zones(shp, layer, result)
    replace_layer(session, layer, zones, result)
    return result


def _read_zones(shp: Path, layer: str, result: HazardLoad) -> list[tuple[str, str, str, bytes]]:
    from pyogrio import raw
    from pyogrio.errors import DataLayerError, DataSourceError

    cpg = shp.with_suffix(".cpg")
    encoding = cpg_encoding(cpg.read_text(errors="replace")) if cpg.exists() else "cp932"
    prj = shp.with_suffix(".prj")
    if prj.exists():
        read_crs(prj.read_text(errors="replace"), ".prj")  # GDAL would not name the problem
    try:
        meta, _fids, wkbs, values = raw.read(shp, encoding=encoding)
    except (DataSourceError, DataLayerError, UnicodeDecodeError) as exc:
        raise BadInput(f"{shp.name} を読めません（{str(exc)[:200]}）", field="file") from None
    if wkbs is None:
        raise BadInput(f"{shp.name} に区域の形状がありません", field="file")
    if meta.get("crs") is None:
        raise BadInput(f"{shp.name} に座標系（.prj）がありません", field="file")
    crs = read_crs(meta["crs"], ".prj")
    result.notes.append(f"{shp.name}: 文字コード {encoding}、座標系 {describe(crs)}")
    columns = {str(name): column for name, column in zip(meta["fields"], values, strict=True)}
    layout = LAYOUTS[layer]
    hazards = _codes(columns, layout.hazard_fields, layout.hazard_codes, shp.name, len(wkbs))
    classes = _codes(columns, layout.class_fields, layout.class_codes, shp.name, len(wkbs))
    names = _first(columns, layout.name_fields)
    shapes = []
    for n, wkb in enumerate(wkbs, start=1):
        try:
            shape = shapely.from_wkb(wkb) if wkb is not None else None
        except shapely.errors.ShapelyError:
            shape = None
        if shape is None or shape.is_empty:
            raise BadInput(f"{shp.name} の {n} 番目の区域の形状が壊れています", field="file")
        if shape.geom_type not in ("Polygon", "MultiPolygon"):
            raise BadInput(
                f"{shp.name} は {shape.geom_type} です。区域の面（ポリゴン）のファイルを選んでください",
                field="file",
            )
        shapes.append(shape)
    zones = []
    for n, shape in enumerate(to_lonlat(shapes, crs)):
        if shape is None:
            raise BadInput(f"{shp.name} の {n + 1} 番目の区域の形状が壊れています", field="file")
        if not shape.is_valid:
            # Published outlines sometimes touch themselves; the repaired area is the same zone.
            shape = shapely.unary_union(
                [g for g in getattr(make_valid(shape), "geoms", [make_valid(shape)])
                 if g.geom_type in ("Polygon", "MultiPolygon")]
            )  # fmt: skip
            result.repaired += 1
        hazard = layout.fixed_hazard or hazards[n]
        name = "" if names is None or names[n] is None else str(names[n]).strip()
        zones.append((hazard, classes[n], name, shapely.to_wkb(shape)))
    result.read += len(zones)
    return zones


def _first(columns: dict, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def _codes(
    columns: dict, fields: tuple[str, ...], codes: dict[str, str], filename: str, count: int
) -> list[str]:
    """Return each feature's meaning of a coded attribute, refusing unknown codes."""
    if not fields:
        return [""] * count
    column = _first(columns, fields)
    if column is None:
        raise BadInput(
            f"{filename} に属性 {' か '.join(fields)} がありません（公開されている形のまま読み込んでください）",
            field="file",
        )
    meanings = []
    for n, value in enumerate(column, start=1):
        if isinstance(value, np.generic):
            value = value.item()
        code = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        code = code.strip()
        if code not in codes:
            raise BadInput(
                f"{filename} の {n} 番目の区域のコード {code!r} は表にありません（{', '.join(codes)}）",
                field="file",
            )
        meanings.append(codes[code])
    return meanings


INSERT_ZONES_SQL = text(
    """
    INSERT INTO hazard_zones (layer, hazard, zone_class, name, geom)
    SELECT :layer, z.hazard, z.zone_class, z.name, ST_Multi(g.geom)
    FROM unnest(CAST(:hazards AS text[]), CAST(:classes AS text[]), CAST(:names AS text[]),
                CAST(:wkbs AS bytea[])) AS z(hazard, zone_class, name, wkb),
         LATERAL (SELECT ST_GeomFromWKB(z.wkb, 4326) AS geom) g,
         city_boundaries b
    WHERE b.code = :code AND ST_Intersects(g.geom, b.geom)
    """
)


def replace_layer(
    session: Session, layer: str, zones: list[tuple[str, str, str, bytes]], result: HazardLoad
) -> None:
    """Replace every zone of the layer in one transaction: readers see the old or the new."""
    for hazard, *_rest in zones:
        if HAZARD_LAYER[hazard] != layer:
            raise BadInput(f"{hazard} の区域は {layer} の層に入りません", field="kind")
    if not zones:
        raise BadInput("区域が1つもありません", field="file")
    session.execute(delete(HazardZone).where(HazardZone.layer == layer))
    row = session.get(HazardLayer, layer)
    if row is None:
        row = HazardLayer(layer=layer, source_name=result.source_name, zone_count=0)
        session.add(row)
    row.source_name = result.source_name
    row.loaded_at = clock.now()
    session.flush()
    kept = rows_changed(
        session.execute(
            INSERT_ZONES_SQL,
            {
                "layer": layer,
                "hazards": [z[0] for z in zones],
                "classes": [z[1] for z in zones],
                "names": [z[2] for z in zones],
                "wkbs": [z[3] for z in zones],
                "code": CITY_CODE,
            },
        )
    )
    if kept == 0:
        raise BadInput(
            "阿蘇市にかかる区域が1つもありません（別の地域のファイルではありませんか）",
            field="file",
        )
    row.zone_count = kept
    result.kept = kept
    session.flush()
