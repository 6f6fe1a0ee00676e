"""Small hazard files in the layout 国土数値情報 publishes: coded attributes, cp932 .dbf, JGD2011."""

import io
import zipfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box


def square(lon: float, lat: float, half: float = 0.002):
    """Return a square zone centred on a point, `half` degrees each way."""
    return box(lon - half, lat - half, lon + half, lat + half)


def shapefile_zip(folder: Path, stem: str, shapes, fields: dict, *, crs="EPSG:6668") -> bytes:
    """Write a polygon Shapefile as published (no .cpg: the .dbf is cp932) and zip it."""
    from pyogrio import raw

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.shp"
    columns = []
    for values in fields.values():
        kind = np.int32 if all(isinstance(v, int) for v in values) else object
        columns.append(np.array(values, dtype=kind))
    raw.write(
        str(path),
        np.array([shapely.to_wkb(s) for s in shapes], dtype=object),
        columns,
        list(fields),
        driver="ESRI Shapefile",
        geometry_type="Polygon",
        crs=crs,
        encoding="cp932",
    )
    (folder / f"{stem}.cpg").unlink(missing_ok=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            archive.write(folder / f"{stem}{ext}", f"{stem}{ext}")
    return out.getvalue()


def a33_zip(folder: Path, zones) -> bytes:
    """A33 土砂災害警戒区域: zones are (shape, 現象の種類 code, 区域区分 code, 区域名)."""
    return shapefile_zip(
        folder,
        "A33-23_43_10_Polygon",
        [z[0] for z in zones],
        {
            "A33_001": [z[1] for z in zones],
            "A33_002": [z[2] for z in zones],
            "A33_003": ["43"] * len(zones),
            "A33_004": [f"43214-{n:04d}" for n in range(1, len(zones) + 1)],
            "A33_005": [z[3] for z in zones],
            "A33_006": ["阿蘇市"] * len(zones),
        },
    )


def a31_zip(folder: Path, zones) -> bytes:
    """A31 洪水浸水想定区域: zones are (shape, 浸水深ランク code)."""
    return shapefile_zip(
        folder,
        "A31-12_43",
        [z[0] for z in zones],
        {"A31_001": [z[1] for z in zones], "A31_002": ["黒川"] * len(zones)},
    )
