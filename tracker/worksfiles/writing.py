"""Write the filtered works as Excel, GeoPackage and zipped Shapefile, ready to import again.

Every format carries the same columns as the CSV, with kinds, statuses and 公開 in Japanese,
and each work's own shape; importing the file back changes nothing.
"""

import io
import re
import tempfile
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from sqlalchemy import Row

if TYPE_CHECKING:
    from openpyxl.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from tracker.core.errors import BadInput
from tracker.words.details import details_text
from tracker.words.vocab import FUNDING_SOURCES, KINDS, STATUSES
from tracker.worksfiles.columns import SHAPEFILE_NAMES

# (field, header) in the order every export writes them; the first fifteen are the CSV's
# historic columns.
EXPORT_COLUMNS = [
    ("id", "ID"),
    ("name", "事業名"),
    ("kind", "種別"),
    ("status", "状況"),
    ("progress", "進捗（%）"),
    ("department", "担当課"),
    ("planned_start", "予定開始"),
    ("planned_end", "予定終了"),
    ("actual_start", "実績開始"),
    ("actual_end", "実績終了"),
    ("length_m", "延長（m）"),
    ("plan_items", "計画項目"),
    ("indicators", "成果指標"),
    ("public", "公開"),
    ("sample", "サンプル"),
    ("external_id", "事業番号"),
    ("description", "説明"),
    ("facility_id", "施設ID"),
]
# The works register, after the other columns: each export writes the fields its reader may
# see (the caller names them). Amounts are whole yen, as numbers a spreadsheet can sum.
REGISTER_COLUMNS = [
    ("planned_cost", "事業費（円）"),
    ("contract_amount", "契約額（円）"),
    ("contractor", "施工業者"),
    ("spent_amount", "執行額（円）"),
    ("funding", "財源"),
    ("responsible_section", "担当係"),
]
AMOUNT_FIELDS = ("planned_cost", "contract_amount", "spent_amount")
WKT_HEADER = "形状（WKT）"
# A .dbf text field holds 254 bytes: the description stays out of the Shapefile (the import
# then leaves it as it is), and a longer name is refused rather than cut.
DBF_TEXT_BYTES = 254
SHAPEFILE_ENCODING = "cp932"
# Shapefiles hold one shape type each; a zip carries one per type present.
SHAPEFILE_PARTS = {
    "Point": ("point", "Point"),
    "MultiPoint": ("multipoint", "MultiPoint"),
    "LineString": ("line", "LineString"),
    "MultiLineString": ("line", "LineString"),
    "Polygon": ("polygon", "Polygon"),
    "MultiPolygon": ("polygon", "Polygon"),
}
JGD2011 = "EPSG:6668"


def export_columns(register: Collection[str] = ()) -> list[tuple[str, str]]:
    """Return the (field, header) pairs an export writes: the work's fields, then the
    works-register fields named in `register`."""
    return EXPORT_COLUMNS + [(f, header) for f, header in REGISTER_COLUMNS if f in register]


def shapefile_fields(register: Collection[str] = ()) -> list[str]:
    """Return the fields a Shapefile export writes (all but the description)."""
    return [f for f, _header in export_columns(register) if f != "description"]


def export_values(row: Row[Any]) -> dict:
    """Return a row's export values by field, as people read them."""
    return {
        "id": row.id,
        "name": row.name,
        "kind": KINDS.get(row.kind, row.kind),
        "status": STATUSES.get(row.status, row.status),
        "progress": row.progress,
        "department": row.department,
        "planned_start": row.planned_start,
        "planned_end": row.planned_end,
        "actual_start": row.actual_start,
        "actual_end": row.actual_end,
        "length_m": None if row.length_m is None else round(row.length_m, 1),
        "plan_items": row.plan_items,
        "indicators": row.indicators,
        "public": "公開" if row.is_public else "職員のみ",
        "sample": "サンプル" if row.is_sample else "",
        "external_id": row.external_id,
        "description": row.description or "",
        "facility_id": row.facility_id,
        "planned_cost": row.planned_cost,
        "contract_amount": row.contract_amount,
        "contractor": row.contractor or "",
        "spent_amount": row.spent_amount,
        "funding": FUNDING_SOURCES.get(row.funding, row.funding) if row.funding else "",
        "responsible_section": row.responsible_section or "",
    }


# The line that opens an export of a past date; the importer knows it and skips it.
AS_OF_WORDS = "の終わり（日本時間）時点の状況"
AS_OF_LINE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) " + AS_OF_WORDS)


def as_of_words(day: date) -> str:
    """Say which day an export of a past date shows: '2022-03-31 の終わり（日本時間）時点の状況'."""
    return f"{day.isoformat()} {AS_OF_WORDS}"


def is_as_of_line(cells: Sequence[object]) -> bool:
    """Tell whether a row is the date line an export of a past date opens with."""
    filled = [str(c).strip() for c in cells if c not in (None, "") and str(c).strip()]
    return len(filled) == 1 and AS_OF_LINE.fullmatch(filled[0]) is not None


def wkt_of(row: Row[Any]) -> str:
    """Return a row's shape as WKT at full precision (so that a re-import is no change)."""
    return shapely.to_wkt(shapely.from_wkb(row.geom_wkb), rounding_precision=-1)


# Beside the codes in the CSV and Excel exports, the names they stand for, and the kind's own
# fields (words.details) as people read them: neither is read back by the import.
NAME_COLUMNS = {"plan_items": "計画項目（名称）", "indicators": "成果指標（名称）"}
DETAILS_HEADER = "種別ごとの項目"
# Column widths in the Excel export, in characters (a kanji counts about two); others 12.
XLSX_WIDTHS = {
    "id": 7,
    "name": 40,
    "kind": 12,
    "status": 10,
    "progress": 10,
    "department": 14,
    "planned_start": 12,
    "planned_end": 12,
    "actual_start": 12,
    "actual_end": 12,
    "length_m": 11,
    "plan_items": 16,
    "indicators": 16,
    "plan_items_names": 48,
    "details": 36,
    "indicators_names": 48,
    "public": 9,
    "sample": 10,
    "external_id": 14,
    "description": 50,
    "facility_id": 9,
    "planned_cost": 18,
    "contract_amount": 18,
    "contractor": 24,
    "spent_amount": 18,
    "funding": 26,
    "responsible_section": 14,
    "wkt": 40,
}
YEN_FORMAT = '#,##0"円"'
DATE_FORMAT = "yyyy-mm-dd"


def named_columns(register: Collection[str] = ()) -> list[tuple[str, str]]:
    """Return the (field, header) pairs of the CSV and Excel exports: the export's columns,
    each list of codes followed by the names they stand for, then the kind's own fields."""
    columns: list[tuple[str, str]] = []
    for field, header in export_columns(register):
        columns.append((field, header))
        if field in NAME_COLUMNS:
            columns.append((f"{field}_names", NAME_COLUMNS[field]))
    return [*columns, ("details", DETAILS_HEADER)]


def xlsx_columns(register: Collection[str] = ()) -> list[tuple[str, str]]:
    """Return the (field, header) pairs of the Excel export: the named columns and the
    shape as WKT last."""
    return [*named_columns(register), ("wkt", WKT_HEADER)]


def named_values(row: Row[Any], names: Mapping[str, str]) -> dict:
    """Return a row's export values with the names of its plan items and indicators (`names`,
    by code, in the reader's language) and its kind's own fields as people read them."""
    values = export_values(row)
    for field in NAME_COLUMNS:
        codes = str(values[field] or "").split()
        values[f"{field}_names"] = "、".join(names.get(code, code) for code in codes)
    values["details"] = details_text(row.kind, getattr(row, "details", None))
    return values


def projects_xlsx(
    rows: Iterable[Row[Any]],
    *,
    register: Collection[str] = (),
    as_of: date | None = None,
    names: Mapping[str, str] | None = None,
) -> bytes:
    """Return the rows as an Excel workbook with Japanese headers and real date cells
    (with the works-register fields named in `register`); an export of a past date names
    the day in the sheet's title and in a line above the headers.

    The header row is frozen and filtered, columns have widths to read them by, amounts are
    yen numbers (they still sum), and plan items and indicators have their names (`names`,
    by code) beside their codes.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    names = names or {}
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"事業一覧（{as_of:%Y%m%d}時点）" if as_of else "事業一覧")
    columns = xlsx_columns(register)
    # Write-only sheets take their layout before the first row.
    for index, (field, _header) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = XLSX_WIDTHS.get(field, 12)
    header_row = 2 if as_of else 1
    last = get_column_letter(len(columns))
    sheet.freeze_panes = f"A{header_row + 1}"
    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")
    if as_of:
        sheet.append([_xlsx_cell(sheet, as_of_words(as_of))])
    header_cells = []
    for _field, header in columns:
        cell = WriteOnlyCell(sheet, header)
        cell.font = bold
        cell.alignment = wrapped
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        values = named_values(row, names)
        values["wkt"] = wkt_of(row)
        cells = []
        for field, _header in columns:
            cell = _xlsx_cell(sheet, values[field])
            if field in AMOUNT_FIELDS:
                cell.number_format = YEN_FORMAT
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(count, 1)}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: "WriteOnlyWorksheet", value: Any) -> "Cell":
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str):
        # Text stays text: a name starting with "=" is not a formula to run.
        cell.data_type = "s"
    elif value is not None and hasattr(value, "isoformat"):
        cell.number_format = DATE_FORMAT
    return cell


def projects_gpkg(
    rows: Iterable[Row[Any]], *, register: Collection[str] = (), as_of: date | None = None
) -> bytes:
    """Return the rows as a GeoPackage layer (JGD2011 lon/lat) with Japanese field names
    (with the works-register fields named in `register`); an export of a past date says
    the day in the layer's description and metadata."""
    rows = list(rows)
    columns = export_columns(register)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "aso_projects.gpkg"
        _write_layer(
            path,
            rows,
            [f for f, _header in columns],
            dict(columns),
            driver="GPKG",
            geometry_type="Unknown",
            layer="aso_projects",
            encoding=None,
            as_of=as_of,
        )
        return path.read_bytes()


def projects_shapefile_zip(
    rows: Iterable[Row[Any]], *, register: Collection[str] = (), as_of: date | None = None
) -> bytes:
    """Return the rows as zipped Shapefiles (cp932 .dbf with .cpg), one per shape type
    (with the works-register fields named in `register`); in an export of a past date each
    file's name carries the day, as a Shapefile has no place for it inside."""
    fields = shapefile_fields(register)
    groups: dict[str, list] = {}
    for row in rows:
        geom_type = shapely.from_wkb(row.geom_wkb).geom_type
        groups.setdefault(SHAPEFILE_PARTS[geom_type][0], []).append(row)
        _check_dbf_text(row, fields)
    out = io.BytesIO()
    with (
        tempfile.TemporaryDirectory() as folder,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for part, part_rows in groups.items():
            declared = next(t for p, t in SHAPEFILE_PARTS.values() if p == part)
            stem = f"aso_projects_asof_{as_of:%Y%m%d}" if as_of else "aso_projects"
            path = Path(folder) / f"{stem}_{part}.shp"
            _write_layer(
                path,
                part_rows,
                fields,
                SHAPEFILE_NAMES,
                driver="ESRI Shapefile",
                geometry_type=declared,
                layer=path.stem,
                encoding=SHAPEFILE_ENCODING,
            )
            for file in sorted(Path(folder).glob(f"{path.stem}.*")):
                archive.write(file, file.name)
    return out.getvalue()


def _check_dbf_text(row: Row[Any], fields: list[str]) -> None:
    values = export_values(row)
    for field in fields:
        value = values[field]
        if not isinstance(value, str):
            continue
        try:
            size = len(value.encode(SHAPEFILE_ENCODING))
        except UnicodeEncodeError as exc:
            raise BadInput(
                f"ID {row.id} の {field} に Shift_JIS で書けない文字"
                f"「{value[exc.start : exc.end]}」があります。GeoPackage か Excel で書き出してください",
                field="format",
            ) from None
        if size > DBF_TEXT_BYTES:
            raise BadInput(
                f"ID {row.id} の {field} が Shapefile の上限（{DBF_TEXT_BYTES} バイト）を超えます。"
                "GeoPackage か Excel で書き出してください",
                field="format",
            )


def _write_layer(
    path: Path,
    rows: Sequence[Row[Any]],
    fields: list[str],
    names: Mapping[str, str],
    *,
    driver: str,
    geometry_type: str,
    layer: str,
    encoding: str | None,
    as_of: date | None = None,
) -> None:
    from pyogrio import raw

    values = [export_values(row) for row in rows]
    columns = []
    for field in fields:
        column = [_gis_value(v[field]) for v in values]
        if field in ("id", "progress"):
            columns.append(np.array(column, dtype=np.int64))
        elif field == "length_m" or field in AMOUNT_FIELDS or field == "facility_id":
            # Empty as NaN (a null field); yen up to 1兆 are exact in a double.
            columns.append(np.array([np.nan if c is None else c for c in column], dtype=float))
        else:
            columns.append(np.array(column, dtype=object))
    geometry = np.array([bytes(row.geom_wkb) for row in rows], dtype=object)
    raw.write(
        str(path),
        geometry,
        columns,
        [names[f] for f in fields],
        driver=driver,
        geometry_type=geometry_type,
        crs=JGD2011,
        layer=layer,
        encoding=encoding,
        layer_options={"DESCRIPTION": as_of_words(as_of)} if as_of else None,
        layer_metadata={"AS_OF": as_of.isoformat()} if as_of else None,
    )


def _gis_value(value: object) -> object:
    """Dates travel as YYYY-MM-DD text: every GIS reads them back the same."""
    if value is not None and hasattr(value, "isoformat"):
        return value.isoformat()
    return value
