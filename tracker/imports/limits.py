"""How big a works list may be, checked before the file is parsed.

A city's works list has a few thousand rows and a few dozen columns; the limits leave ample
room for that and refuse, in words naming the limit and what the file has, a file that would
hold a worker for minutes or take gigabytes to read. The checks stream through the file and
stop as soon as a limit is passed, so a refusal costs milliseconds whatever the file's size:
CSV rows and columns are counted with the csv module over the raw bytes, an Excel sheet's rows
and cells in its XML inside the zip, without openpyxl. GIS files are counted from GDAL's layer
information (tracker.imports.reading) before their features are read.
"""

import csv
import io
import re
import zipfile
from pathlib import PurePosixPath
from typing import IO
from xml.etree import ElementTree

from tracker.core.errors import BadInput
from tracker.core.translate import gettext

MAX_ROWS = 20_000
MAX_COLUMNS = 100
# An .xlsx of 20 MB holding 20,000 rows of 100 columns unpacks to well under this; more is a
# zip bomb or a file far beyond the limits.
MAX_XLSX_UNZIPPED_BYTES = 256 * 1024 * 1024
# Above the header: the date line an export of a past date opens with.
LINES_ABOVE_ROWS = 2
CHUNK_BYTES = 1 << 20

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
# A sheet row, empty (<row/>) or with its cells; prefixes (<x:row>) as some writers use them.
_ROW = re.compile(rb"<" + _PREFIX + rb"row\b[^>]*?(?:/>|>(.*?)</" + _PREFIX + rb"row>)", re.S)
# A value of a cell: <v> (number, shared or formula result) or <is> (an inline string).
_VALUE = re.compile(rb"<" + _PREFIX + rb"(?:v|is)[\s>]")
# A cell that is not empty (<c .../> is), and the column letters of its reference.
_CELL = re.compile(rb"<" + _PREFIX + rb'c\b[^>]*?\br="([A-Z]{1,3})[0-9]+"[^>]*?(?<!/)>')
_DIMENSION = re.compile(rb"<" + _PREFIX + rb'dimension\b[^>]*?\bref="[A-Z]*[0-9]*:?[A-Z]*([0-9]+)"')
_RELS_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def too_many_rows(count: int, *, sheet_rows: int | None = None) -> BadInput:
    """Refuse a file of more than MAX_ROWS rows; `count` is how many were seen (at least)."""
    if sheet_rows is not None and sheet_rows > count:
        text = gettext(
            "行が多すぎます。%(limit)s 行まで読めます（このシートは %(rows)s 行目まで使われています）。"
            "分けて取り込んでください",
            limit=f"{MAX_ROWS:,}",
            rows=f"{sheet_rows:,}",
        )
    else:
        text = gettext(
            "行が多すぎます。%(limit)s 行まで読めます（このファイルは %(count)s 行以上）。"
            "分けて取り込んでください",
            limit=f"{MAX_ROWS:,}",
            count=f"{count:,}",
        )
    return BadInput(text, field="file", code="too_many_rows")


def too_many_columns(count: int) -> BadInput:
    """Refuse a file of more than MAX_COLUMNS columns."""
    return BadInput(
        gettext(
            "列が多すぎます。%(limit)s 列まで読めます（このファイルは %(count)s 列）",
            limit=f"{MAX_COLUMNS:,}",
            count=f"{count:,}",
        ),
        field="file",
        code="too_many_columns",
    )


def too_many_features(count: int) -> BadInput:
    """Refuse a GIS layer of more than MAX_ROWS features."""
    return BadInput(
        gettext(
            "地物が多すぎます。%(limit)s 件まで読めます（このファイルは %(count)s 件）。"
            "分けて取り込んでください",
            limit=f"{MAX_ROWS:,}",
            count=f"{count:,}",
        ),
        field="file",
        code="too_many_rows",
    )


def check_size(data: bytes, fmt: str) -> None:
    """Refuse a CSV or Excel file with more rows or columns than the limits, reading as
    little of it as it takes to tell; other formats are checked when they are read."""
    if fmt == "csv":
        _check_csv(data)
    elif fmt == "xlsx":
        _check_xlsx(data)


def _check_csv(data: bytes) -> None:
    # Commas, quotes and line ends are ASCII, never part of a UTF-8 or Shift_JIS character:
    # the file's shape reads the same from its bytes taken as Latin-1, whatever its encoding.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="latin-1", newline=""))
    rows = 0
    try:
        for row in reader:
            if len(row) > MAX_COLUMNS:
                raise too_many_columns(len(row))
            if any(cell.strip() for cell in row):
                rows += 1
                if rows > MAX_ROWS + LINES_ABOVE_ROWS:
                    raise too_many_rows(rows - 1)
    except csv.Error:
        return  # the reader says what is wrong with the file, with its line


def _check_xlsx(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unzipped = sum(member.file_size for member in archive.infolist())
        if unzipped > MAX_XLSX_UNZIPPED_BYTES:
            raise BadInput(
                gettext(
                    "Excel ファイルを展開すると大きすぎます（%(size)s MB、%(limit)s MB まで）",
                    size=f"{unzipped >> 20:,}",
                    limit=f"{MAX_XLSX_UNZIPPED_BYTES >> 20:,}",
                ),
                field="file",
                code="too_large",
            )
        sheet = _first_sheet(archive)
        if sheet is None:
            return  # openpyxl says what is wrong with the workbook
        with archive.open(sheet) as source:
            _count_sheet(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError):
        return  # not a workbook: openpyxl says so when the file is read


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """Return the path in the zip of the workbook's first worksheet, the one imported."""
    try:
        book = ElementTree.fromstring(_small(archive, "xl/workbook.xml"))
        rels = ElementTree.fromstring(_small(archive, "xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, ValueError):
        return None
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in rels.iter(f"{_PKG_RELS_NS}Relationship")
        if rel.get("Type", "").endswith("/worksheet")
    }
    for sheet in book.iter():
        if not sheet.tag.endswith("}sheet"):
            continue
        target = targets.get(sheet.get(f"{_RELS_NS}id"))
        if target:
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            return str(PurePosixPath(path))
    return None


def _small(archive: zipfile.ZipFile, name: str) -> bytes:
    if archive.getinfo(name).file_size > CHUNK_BYTES * 8:
        raise ValueError(f"{name} is too large for what it holds")
    return archive.read(name)


def _count_sheet(source: IO[bytes]) -> None:
    """Count the sheet's rows with values and its widest row, stopping past a limit."""
    rows = 0
    sheet_rows = None
    pending = b""
    while chunk := source.read(CHUNK_BYTES):
        pending += chunk
        if sheet_rows is None and (found := _DIMENSION.search(pending)):
            sheet_rows = int(found.group(1))
        end = 0
        for row in _ROW.finditer(pending):
            end = row.end()
            content = row.group(1)
            if not content or not _VALUE.search(content):
                continue
            rows += 1
            if rows > MAX_ROWS + LINES_ABOVE_ROWS:
                raise too_many_rows(rows - 1, sheet_rows=sheet_rows)
            width = max((_column_number(c.group(1)) for c in _CELL.finditer(content)), default=0)
            if width > MAX_COLUMNS:
                raise too_many_columns(width)
        pending = pending[end:]


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number
