"""The filtered list as CSV that Japanese Excel opens (UTF-8 with BOM, Japanese headers)."""

import csv
import io

from tracker.projects.register import visible_register_fields
from tracker.vocab import FIELD_LABELS, FUNDING_SOURCES, KINDS, STATUSES

BOM = "\ufeff"
HEADERS = [
    "ID", "事業名", "種別", "状況", "進捗（%）", "担当課", "予定開始", "予定終了",
    "実績開始", "実績終了", "延長（m）", "計画項目", "成果指標", "公開", "サンプル",
]  # fmt: skip
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


# Amounts are whole yen, written as plain numbers so that a spreadsheet can sum them.
REGISTER_HEADERS = {
    "planned_cost": "事業費（円）",
    "contract_amount": "契約額（円）",
    "spent_amount": "執行額（円）",
}


def _register_cell(field: str, value):
    if value is None:
        return ""
    if field == "funding":
        return FUNDING_SOURCES.get(value, value)
    return _cell(value)


def projects_csv(rows, *, internal: bool = False) -> bytes:
    """Return the rows as CSV bytes with a BOM and Japanese headers.

    The works-register columns follow; `internal` (staff and viewers) adds those only
    they read.
    """
    register = visible_register_fields(internal=internal)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS + [REGISTER_HEADERS.get(f, FIELD_LABELS[f]) for f in register])
    for r in rows:
        writer.writerow(
            [
                r.id,
                _cell(r.name),
                KINDS.get(r.kind, r.kind),
                STATUSES.get(r.status, r.status),
                r.progress,
                _cell(r.department),
                r.planned_start,
                r.planned_end,
                r.actual_start,
                r.actual_end,
                "" if r.length_m is None else round(r.length_m, 1),
                r.plan_items,
                r.indicators,
                "公開" if r.is_public else "職員のみ",
                "サンプル" if r.is_sample else "",
                *(_register_cell(field, getattr(r, field)) for field in register),
            ]
        )
    return (BOM + out.getvalue()).encode("utf-8")
