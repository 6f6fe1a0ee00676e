"""The filtered list as CSV that Japanese Excel opens (UTF-8 with BOM, Japanese headers)."""

import csv
import io

from tracker.hazards.codes import hazard_label
from tracker.vocab import KINDS, STATUSES
from tracker.worksfiles.values import FORMULA_START
from tracker.worksfiles.writing import WKT_HEADER, export_columns, export_values, wkt_of

BOM = "\ufeff"


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def projects_csv(rows, *, register=()) -> bytes:
    """Return the rows (with their shapes) as CSV bytes with a BOM and Japanese headers.

    The works-register fields named in `register` (those the reader may see) follow the
    other columns.
    """
    columns = export_columns(register)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for _field, header in columns] + [WKT_HEADER])
    for r in rows:
        values = export_values(r)
        writer.writerow([_cell(values[field]) for field, _header in columns] + [wkt_of(r)])
    return (BOM + out.getvalue()).encode("utf-8")


HAZARD_HEADERS = ["災害の種類", "対象", "ID", "名称", "種別", "状況", "位置", "区域の区分"]


def hazards_csv(works, shelters) -> bytes:
    """Return the works and shelters in hazard zones as CSV bytes with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HAZARD_HEADERS)
    for w in works:
        writer.writerow(
            [
                hazard_label(w.hazard),
                "事業",
                w.id,
                _cell(w.name),
                KINDS.get(w.kind, w.kind),
                STATUSES.get(w.status, w.status),
                "区域内" if w.inside else "区域にかかる",
                " ".join(w.zone_classes),
            ]
        )
    for s in shelters:
        writer.writerow(
            [hazard_label(s.hazard), "指定避難所", s.id, _cell(s.name), "避難所", "", "区域内",
             " ".join(s.zone_classes)]
        )  # fmt: skip
    return (BOM + out.getvalue()).encode("utf-8")
