"""The filtered list as CSV that Japanese Excel opens (UTF-8 with BOM, Japanese headers)."""

import csv
import io

from tracker.imports.values import FORMULA_START
from tracker.imports.writing import EXPORT_COLUMNS, WKT_HEADER, export_values, wkt_of

BOM = "\ufeff"
HEADERS = [header for _field, header in EXPORT_COLUMNS] + [WKT_HEADER]


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def projects_csv(rows) -> bytes:
    """Return the rows (with their shapes) as CSV bytes with a BOM and Japanese headers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for r in rows:
        values = export_values(r)
        writer.writerow([_cell(values[field]) for field, _header in EXPORT_COLUMNS] + [wkt_of(r)])
    return (BOM + out.getvalue()).encode("utf-8")
