"""Read a works list from CSV, Excel, GeoJSON, GeoPackage or zipped Shapefile into one table.

Whatever the format, the result is a header row, the rows' raw values with the line (or
feature) number a person finds them at, and each row's geometry from the file itself, already
turned into lon/lat. What was detected (encoding, coordinate system) is said in `notes`.
"""

import csv
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from tracker.core.errors import BadInput
from tracker.core.translate import gettext
from tracker.geo.gisfiles import (
    cpg_encoding,
    describe,
    extract_shapefiles,
    on_tokyo_datum,
    read_crs,
    to_lonlat,
)
from tracker.imports.limits import (
    LINES_ABOVE_ROWS,
    MAX_COLUMNS,
    MAX_ROWS,
    check_size,
    too_many_columns,
    too_many_features,
    too_many_rows,
)
from tracker.words.vocab import N_
from tracker.worksfiles.writing import is_as_of_line

# Larger files are refused before they are read: a city's works list is far smaller, and the
# whole file is held in memory while it is checked.
MAX_FILE_BYTES = 20 * 1024 * 1024
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shp",
}
BOM = b"\xef\xbb\xbf"


class ReaderNote(str):
    """What the reader found (the encoding, the coordinate system, a line skipped): the
    Japanese text as a string, and in the reader's language through `said()`.

    The page that shows a check's result later keeps `as_json()` and says it with note_text.
    """

    template: str
    params: dict[str, str]

    def __new__(cls, template: str, **params: object) -> "ReaderNote":
        kept = {name: str(value) for name, value in params.items()}
        note = super().__new__(cls, template % kept if kept else template)
        note.template = template
        note.params = kept
        return note

    def as_json(self) -> dict:
        """Return the note to keep: its source words and their values."""
        return {"template": self.template, "params": self.params}


# Values of a note that are themselves words to translate (an encoding's description).
NOTE_WORDS = ("encoding",)


def datum_notes(crs: CRS) -> list[ReaderNote]:
    """Return the note that a file on the old Japanese datum is moved to JGD2011, if it is."""
    return [ReaderNote(N_("日本測地系：世界測地系に変換します"))] if on_tokyo_datum(crs) else []


def note_text(kept: str | dict) -> str:
    """Say a kept note in the reader's language (a note kept as text is said as it is)."""
    if isinstance(kept, str):
        return kept
    params = dict(kept.get("params") or {})
    for name in NOTE_WORDS:
        if params.get(name):
            params[name] = gettext(params[name])
    return str(gettext(kept["template"], **params))


@dataclass
class SourceTable:
    """A file's rows: headers, raw values, line numbers and lon/lat geometries (if any)."""

    filename: str
    format: str
    headers: list[str]
    rows: list[list]
    lines: list[int]
    geometries: list[BaseGeometry | None] | None = None
    notes: list[ReaderNote] = field(default_factory=list)


def read_table(data: bytes, filename: str, *, epsg: int | None = None) -> SourceTable:
    """Read a file's rows; `epsg` names the CRS of coordinates the file does not declare."""
    fmt = check_upload(data, filename)
    reader = {
        "csv": _read_csv,
        "xlsx": _read_xlsx,
        "geojson": _read_geojson,
        "gpkg": _read_gpkg,
        "shp": _read_shapefile_zip,
    }[fmt]
    table = reader(data, filename, epsg)
    if not table.headers:
        raise BadInput("見出しの行がありません", field="file")
    if len(table.headers) > MAX_COLUMNS:
        raise too_many_columns(len(table.headers))
    if len(table.rows) > MAX_ROWS:
        raise too_many_rows(len(table.rows))
    return table


def format_of(filename: str) -> str:
    """Return the format a file's name says (csv, xlsx, geojson, gpkg, shp), or refuse it."""
    fmt = FORMATS.get(Path(filename).suffix.lower())
    if fmt is None:
        raise BadInput(
            f"{Path(filename).suffix or filename} は読めません"
            "（CSV, Excel .xlsx, GeoJSON, GeoPackage .gpkg, Shapefile を固めた .zip）",
            field="file",
        )
    return fmt


def check_upload(data: bytes, filename: str) -> str:
    """Refuse at once a file too large, empty, of an unknown format, or with more rows or
    columns than the limits (CSV and Excel: counted without parsing); return its format."""
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(
            f"{len(data) / 1024 / 1024:.0f} MB は大きすぎます"
            f"（{MAX_FILE_BYTES // 1024 // 1024} MB まで）。分けて取り込んでください",
            field="file",
        )
    if not data:
        raise BadInput("空のファイルです", field="file")
    fmt = format_of(filename)
    check_size(data, fmt)
    return fmt


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM) or cp932; say which, or refuse."""
    if data.startswith(BOM):
        return data[len(BOM) :].decode("utf-8", errors="strict"), N_("UTF-8（BOM付き）")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise BadInput(
            "UTF-16 などの文字コードは読めません。UTF-8 か Shift_JIS（cp932）で保存してください",
            field="file",
        )
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), N_("Shift_JIS（cp932）")
    except UnicodeDecodeError as exc:
        raise BadInput(
            "文字コードが UTF-8 でも Shift_JIS（cp932）でもありません"
            f"（{exc.start} バイト目）。Excel なら「CSV UTF-8」で保存してください",
            field="file",
        ) from None


def _read_csv(data: bytes, filename: str, epsg: int | None) -> SourceTable:
    text, encoding = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise BadInput(
            f"CSV として読めません（{reader.line_num} 行目: {exc}）", field="file"
        ) from None
    records = [(line, row) for line, row in records if any(cell.strip() for cell in row)]
    notes = [ReaderNote(N_("文字コード: %(encoding)s"), encoding=encoding)]
    if records and is_as_of_line(records[0][1]):
        # This app's export of a past date: its first line says the day, then the headers.
        notes.append(
            ReaderNote(
                N_("1 行目「%(line)s」は日付の行として読み飛ばしました"), line=records[0][1][0]
            )
        )
        records = records[1:]
    if not records:
        raise BadInput("見出しの行がありません", field="file")
    (_line, headers), body = records[0], records[1:]
    table = SourceTable(
        filename,
        "csv",
        [h.strip() for h in headers],
        [row for _line, row in body],
        [line for line, _row in body],
        notes=notes,
    )
    if epsg:
        crs = read_crs(f"EPSG:{epsg}", "epsg")
        table.notes.append(
            ReaderNote(N_("座標系（指定）: %(crs)s"), crs=describe(crs, datum_note=False))
        )
        table.notes += datum_notes(crs)
    return table


def _read_xlsx(data: bytes, filename: str, epsg: int | None) -> SourceTable:
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise BadInput(
            f"Excel（.xlsx）として開けません（{type(exc).__name__}）", field="file"
        ) from None
    try:
        sheet = book.worksheets[0]
        if isinstance(sheet, ReadOnlyWorksheet):
            # Rows as long as their own cells, not padded to the range the file claims
            # (XFD1048576 in some files: 16,384 empty cells a row).
            sheet.reset_dimensions()
        rows = []
        for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(v not in (None, "") for v in values):
                rows.append((n, list(values)))
                if len(rows) > MAX_ROWS + LINES_ABOVE_ROWS:
                    raise too_many_rows(len(rows) - 1)
    finally:
        book.close()
    notes = [ReaderNote(N_("シート: %(sheet)s"), sheet=sheet.title)]
    if rows and is_as_of_line(rows[0][1]):
        # This app's export of a past date: a line saying the day sits above the headers.
        notes.append(
            ReaderNote(N_("%(line)s 行目は日付の行として読み飛ばしました"), line=rows[0][0])
        )
        rows = rows[1:]
    if not rows:
        raise BadInput("最初のシートに見出しの行がありません", field="file")
    (_n, headers), body = rows[0], rows[1:]
    width = len(headers)
    return SourceTable(
        filename,
        "xlsx",
        ["" if h is None else str(h).strip() for h in headers],
        [(values + [None] * width)[:width] for _n, values in body],
        [n for n, _values in body],
        notes=notes,
    )


def _read_geojson(data: bytes, filename: str, epsg: int | None) -> SourceTable:
    _check_layer(io.BytesIO(data), encoding=None)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"GeoJSON として読めません（{exc}）", field="file") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise BadInput("GeoJSON の FeatureCollection ではありません", field="file")
    features = doc.get("features") or []
    headers: dict[str, None] = {}
    for feature in features:
        headers.update(dict.fromkeys((feature or {}).get("properties") or {}))
    rows, geometries = [], []
    for n, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {}
        rows.append([props.get(h) for h in headers])
        try:
            geom: BaseGeometry | _Broken | None = (
                shape(feature["geometry"]) if feature.get("geometry") else None
            )
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError):
            geom = _Broken(f"{n} 番目の地物の形状が GeoJSON として読めません")
        geometries.append(geom)
    # RFC 7946 GeoJSON is lon/lat; an old-style "crs" member is honoured.
    declared = ((doc.get("crs") or {}).get("properties") or {}).get("name")
    crs = read_crs(declared or "EPSG:4326", "crs")
    table = SourceTable(filename, "geojson", list(headers), rows, list(range(1, len(rows) + 1)))
    table.geometries = _to_lonlat(geometries, crs)
    table.notes.append(ReaderNote(N_("座標系: %(crs)s"), crs=describe(crs, datum_note=False)))
    table.notes += datum_notes(crs)
    return table


class _Broken:
    """Stands for a feature whose geometry could not be read; refused on its own row."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _to_lonlat(geometries: list, crs: CRS) -> list:
    good = [g if isinstance(g, BaseGeometry) else None for g in geometries]
    moved = to_lonlat(good, crs)
    return [g if isinstance(g, _Broken) else m for g, m in zip(geometries, moved, strict=True)]


def _read_gpkg(data: bytes, filename: str, epsg: int | None) -> SourceTable:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.gpkg"
        path.write_bytes(data)
        return _read_ogr(path, filename, "gpkg", epsg, encoding=None)


def _read_shapefile_zip(data: bytes, filename: str, epsg: int | None) -> SourceTable:
    """Read every Shapefile in the zip (the exports write one per shape type) as one table."""
    with tempfile.TemporaryDirectory() as folder:
        tables = []
        for shp in extract_shapefiles(data, Path(folder)):
            cpg = shp.with_suffix(".cpg")
            encoding = cpg_encoding(cpg.read_text(errors="replace")) if cpg.exists() else "cp932"
            prj = shp.with_suffix(".prj")
            if prj.exists():
                # Read here first: GDAL refuses a .prj it cannot place without naming the CRS.
                read_crs(prj.read_text(errors="replace"), ".prj")
            table = _read_ogr(shp, filename, "shp", epsg, encoding=encoding)
            table.notes.insert(
                0,
                ReaderNote(
                    N_("%(file)s: 文字コード %(encoding)s（.cpg による）"),
                    file=shp.stem,
                    encoding=encoding,
                )
                if cpg.exists()
                else ReaderNote(
                    N_("%(file)s: 文字コード cp932（.cpg がないため Shift_JIS として読みました）"),
                    file=shp.stem,
                ),
            )
            tables.append(table)
    return _joined(tables, filename)


def _joined(tables: list[SourceTable], filename: str) -> SourceTable:
    """Join tables read from several files; features are numbered on through them."""
    if len(tables) == 1:
        return tables[0]
    headers = list(dict.fromkeys(h for t in tables for h in t.headers))
    geometries: list[BaseGeometry | None] = []
    joined = SourceTable(filename, tables[0].format, headers, [], [], geometries, [])
    for table in tables:
        positions = [table.headers.index(h) if h in table.headers else None for h in headers]
        for row in table.rows:
            joined.rows.append([None if p is None else row[p] for p in positions])
        geometries += table.geometries or [None] * len(table.rows)
        joined.notes += table.notes
    joined.lines = list(range(1, len(joined.rows) + 1))
    return joined


def _read_ogr(
    path: Path, filename: str, fmt: str, epsg: int | None, *, encoding: str | None
) -> SourceTable:
    from pyogrio import raw
    from pyogrio.errors import DataLayerError, DataSourceError

    _check_layer(path, encoding=encoding)
    try:
        meta, _fids, wkbs, values = raw.read(path, encoding=encoding)
    except (DataSourceError, DataLayerError, UnicodeDecodeError) as exc:
        raise BadInput(f"GIS ファイルとして読めません（{str(exc)[:200]}）", field="file") from None
    if wkbs is None:
        raise BadInput(f"{filename} に地物の形状がありません", field="file")
    declared = meta.get("crs")
    if declared is None and epsg is None:
        raise BadInput(
            "座標系が書かれていません（Shapefile なら .prj）。EPSGコードを指定してください",
            field="file",
        )
    crs = read_crs(declared or f"EPSG:{epsg}", ".prj" if fmt == "shp" else "crs")
    headers = [str(name) for name in meta["fields"]]
    columns = [_plain_column(column) for column in values]
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in wkbs]
    geometries: list = []
    for n, wkb in enumerate(wkbs, start=1):
        if wkb is None:
            geometries.append(None)
            continue
        try:
            geometries.append(shapely.from_wkb(wkb))
        except shapely.errors.ShapelyError:
            geometries.append(_Broken(f"{n} 番目の地物の形状が壊れています"))
    table = SourceTable(filename, fmt, headers, rows, list(range(1, len(rows) + 1)))
    table.geometries = _to_lonlat(geometries, crs)
    table.notes.append(ReaderNote(N_("座標系: %(crs)s"), crs=describe(crs, datum_note=False)))
    table.notes += datum_notes(crs)
    return table


def _check_layer(source: Path | io.BytesIO, *, encoding: str | None) -> None:
    """Refuse a layer with more features or fields than the limits, from GDAL's layer
    information, before its features are read."""
    from pyogrio import read_info
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        info = read_info(source, encoding=encoding, force_feature_count=True)
    except (DataSourceError, DataLayerError, UnicodeDecodeError):
        return  # reading the file says what is wrong with it
    if len(info["fields"]) > MAX_COLUMNS:
        raise too_many_columns(len(info["fields"]))
    if info["features"] > MAX_ROWS:
        raise too_many_features(info["features"])


def _plain_column(column: np.ndarray) -> list:
    """Return a column read by GDAL as plain Python values (None for empty)."""
    if column.dtype.kind == "M":  # dates and times: the day is what a work needs
        return column.astype("datetime64[D]").tolist()
    values = column.tolist()
    if column.dtype.kind == "f":
        return [None if v != v else v for v in values]
    return values


def is_broken(geometry: object) -> str | None:
    """Return why a file's geometry could not be read, or None if it was read."""
    return geometry.reason if isinstance(geometry, _Broken) else None
