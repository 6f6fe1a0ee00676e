"""Importing works lists: a 10,000-row cp932 CSV and a 10,000-feature Shapefile in EPSG:6670,
each as a dry run and as a real import (rolled back afterwards, so the bench database stays
as it was). Timed from the file's bytes to the last row written: reading, checking, writing."""

import csv
import io
import time
import zipfile
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.run import city_points
from tracker import create_app
from tracker.imports.operations import import_table
from tracker.imports.reading import read_table
from tracker.words.vocab import KINDS as KIND_LABELS
from tracker.words.vocab import STATUSES as STATUS_LABELS

ROWS = 10_000
# Written as people write them: the vocabulary's Japanese labels.
KINDS = tuple(KIND_LABELS[code] for code in ("bridge", "sabo", "seismic", "shelter"))
STATUSES = tuple(STATUS_LABELS[code] for code in ("planned", "design", "construction"))


def _values(n: int) -> dict:
    status = STATUSES[n % 3]
    return {
        "事業番号": f"B-{n:05d}",
        "事業名": f"取込試験 {n}",
        "種別": KINDS[n % 4],
        "状況": status,
        "進捗率": 0 if status == "未着手" else 10,
        "担当課": "建設課",
        "計画開始": "R6.4.1",
        "計画終了": "令和7年3月31日",
        "計画項目": "p1.m2.i1",
    }


def cp932_csv(points) -> bytes:
    """Return a cp932 CSV of the points, with Japanese headers, 令和 dates and labels."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = [*_values(0), "緯度", "経度"]
    writer.writerow(header)
    for n, (lon, lat) in enumerate(points):
        writer.writerow([*_values(n).values(), f"{lat:.7f}", f"{lon:.7f}"])
    return out.getvalue().encode("cp932")


def plane_ii_shapefile_zip(points) -> bytes:
    """Return a zipped Shapefile of the points in JGD2011 平面直角座標系 II (EPSG:6670)."""
    from pyogrio import raw

    to_plane = Transformer.from_crs("EPSG:6668", "EPSG:6670", always_xy=True)
    xs, ys = to_plane.transform([p[0] for p in points], [p[1] for p in points])
    geoms = shapely.points(np.column_stack([xs, ys]))
    records = [_values(n) for n in range(len(points))]
    names = {"事業番号": "ext_id", "事業名": "name", "種別": "kind", "状況": "status",
             "進捗率": "progress", "担当課": "dept", "計画開始": "plan_start",
             "計画終了": "plan_end", "計画項目": "plan_items"}  # fmt: skip
    columns = [np.array([str(r[k]) for r in records], dtype=object) for k in names]
    with TemporaryDirectory() as folder:
        path = Path(folder) / "works.shp"
        raw.write(
            str(path), shapely.to_wkb(geoms), columns, list(names.values()),
            driver="ESRI Shapefile", geometry_type="Point", crs="EPSG:6670", encoding="cp932",
        )  # fmt: skip
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for file in Path(folder).iterdir():
                archive.write(file, file.name)
    return out.getvalue()


def _rate(app, engine, data: bytes, filename: str, rows: int, *, dry_run: bool) -> float:
    """Import the file once in a transaction that is rolled back; return rows per second."""
    with app.test_request_context(), engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        start = time.perf_counter()
        report = import_table(session, read_table(data, filename), user=None, dry_run=dry_run)
        elapsed = time.perf_counter() - start
        assert report.counts["created"] == rows, report.counts
        assert report.written is not dry_run
        session.close()
        outer.rollback()
    return rows / elapsed


def run(ctx):
    """Yield the import figures."""
    rows = ctx.size(ROWS)
    url = ctx.database(ctx.size(10_000))
    app = create_app({"DATABASE_URL": url})
    engine = create_engine(url)
    with Session(engine) as session:
        points = city_points(session, rows, seed=11)
    files = {
        "csv": (cp932_csv(points), "works.csv"),
        "shp": (plane_ii_shapefile_zip(points), "works.zip"),
    }
    for name, (data, filename) in files.items():
        _rate(app, engine, data, filename, rows, dry_run=True)  # warm-up: imports, caches
        for dry_run, label in ((True, "dry"), (False, "real")):
            rate = _rate(app, engine, data, filename, rows, dry_run=dry_run)
            yield f"import_rows_per_s_{name}_{label}_{rows}", round(rate)
    engine.dispose()
