"""The filtered list as CSV that Japanese Excel opens (UTF-8 with BOM, Japanese headers)."""

import csv
import io

from tracker.vocab import KINDS, STATUSES

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


def projects_csv(rows) -> bytes:
    """Return the rows as CSV bytes with a BOM and Japanese headers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
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
            ]
        )
    return (BOM + out.getvalue()).encode("utf-8")
