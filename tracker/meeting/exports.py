"""Lists as CSV that Japanese Excel opens (UTF-8 with BOM, Japanese headers)."""

import csv
import io
from datetime import date

from tracker.formatting import japanese_fiscal_year
from tracker.indicators.queries import IndicatorValue
from tracker.indicators.units import amount_text
from tracker.vocab import KINDS, STATUSES

BOM = "\ufeff"
HEADERS = [
    "ID", "事業名", "種別", "状況", "進捗（%）", "担当課", "予定開始", "予定終了",
    "実績開始", "実績終了", "延長（m）", "計画項目", "成果指標", "公開", "サンプル",
]  # fmt: skip
INDICATOR_HEADERS = ["年度（西暦）", "年度", "値", "公式値", "単位", "記録値の出典"]
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def as_of_line(as_of: date) -> list[str]:
    """Return the line that opens an export of a past date, saying which date it shows."""
    return [f"{as_of.isoformat()} の終わり（日本時間）時点の状況"]


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def projects_csv(rows, *, as_of: date | None = None) -> bytes:
    """Return the rows as CSV bytes with a BOM and Japanese headers.

    An export of a past date (`as_of`) opens with a line saying so; its rows already hold
    that date's state (see projects.queries.filtered_projects).
    """
    lines = [as_of_line(as_of)] if as_of else []
    lines.append(HEADERS)
    for r in rows:
        lines.append(
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
    return _csv(lines)


def indicator_years_csv(value: IndicatorValue, as_of: date | None) -> bytes:
    """Return one indicator's value for each fiscal year, rounded as its unit is read."""
    lines = [as_of_line(as_of)] if as_of else []
    lines.append([f"成果指標: {value.name}"])
    lines.append(INDICATOR_HEADERS)
    for year, amount, official in value.series:
        figure = value.figures.get(year)
        lines.append(
            [
                year,
                japanese_fiscal_year(year),
                amount_text(amount, value.unit),
                amount_text(official, value.unit),
                value.unit,
                _cell(figure.source) if figure else "",
            ]
        )
    return _csv(lines)
