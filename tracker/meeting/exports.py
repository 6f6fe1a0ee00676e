"""Lists as CSV that Japanese Excel opens (UTF-8 with BOM, Japanese headers)."""

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Row

from tracker.hazards.codes import hazard_label
from tracker.hazards.queries import ExposedShelter, ExposedWork
from tracker.indicators.queries import IndicatorValue
from tracker.indicators.units import amount_text
from tracker.plan.names import plan_name
from tracker.words.formatting import japanese_fiscal_year
from tracker.words.vocab import KINDS, STATUSES
from tracker.worksfiles.values import FORMULA_START
from tracker.worksfiles.writing import (
    WKT_HEADER,
    as_of_words,
    named_columns,
    named_values,
    wkt_of,
)

BOM = "\ufeff"
INDICATOR_HEADERS = ["年度（西暦）", "年度", "値", "公式値", "単位", "記録値の出典"]


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def as_of_line(as_of: date) -> list[str]:
    """Return the line that opens an export of a past date, saying which date it shows."""
    return [as_of_words(as_of)]


def _csv(rows: list[list], *, bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return ((BOM if bom else "") + out.getvalue()).encode("utf-8")


# Lines per piece of a streamed export: big enough to send few pieces, small enough that a
# piece is a few hundred kilobytes at most.
STREAM_LINES = 500


def projects_csv_chunks(
    rows: Iterable[Row[Any]],
    *,
    register: Collection[str] = (),
    as_of: date | None = None,
    names: Mapping[str, str] | None = None,
) -> Iterator[bytes]:
    """Yield the rows (with their shapes) as CSV with a BOM and Japanese headers, a piece at
    a time: the headers first (at once, before any row is read), then STREAM_LINES lines.

    The works-register fields named in `register` (those the reader may see) follow the
    other columns; plan items and indicators have their names (`names`, by code, in the
    reader's language) beside their codes, and the kind's own fields follow. An export of a
    past date (`as_of`) opens with a line saying so; its rows already hold that date's
    state (see projects.queries.filtered_projects).
    """
    columns = named_columns(register)
    lines = [as_of_line(as_of)] if as_of else []
    lines.append([header for _field, header in columns] + [WKT_HEADER])
    yield _csv(lines)
    lines = []
    for r in rows:
        values = named_values(r, names or {})
        lines.append([_cell(values[field]) for field, _header in columns] + [wkt_of(r)])
        if len(lines) >= STREAM_LINES:
            yield _csv(lines, bom=False)
            lines = []
    if lines:
        yield _csv(lines, bom=False)


def projects_csv(
    rows: Iterable[Row[Any]],
    *,
    register: Collection[str] = (),
    as_of: date | None = None,
    names: Mapping[str, str] | None = None,
) -> bytes:
    """Return the whole of projects_csv_chunks as one piece."""
    return b"".join(projects_csv_chunks(rows, register=register, as_of=as_of, names=names))


HAZARD_HEADERS = ["災害の種類", "対象", "ID", "名称", "種別", "状況", "位置", "区域の区分"]


def hazards_csv(works: Iterable[ExposedWork], shelters: Iterable[ExposedShelter]) -> bytes:
    """Return the works and shelters in hazard zones as CSV bytes with a BOM."""
    lines: list[list] = [HAZARD_HEADERS]
    for w in works:
        lines.append(
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
        lines.append(
            [hazard_label(s.hazard), "指定避難所", s.id, _cell(s.name), "避難所", "", "区域内",
             " ".join(s.zone_classes)]
        )  # fmt: skip
    return _csv(lines)


def indicator_years_csv(value: IndicatorValue, as_of: date | None) -> bytes:
    """Return one indicator's value for each fiscal year, rounded as its unit is read."""
    lines: list[list] = [as_of_line(as_of)] if as_of else []
    # The indicator by its name in the reader's language; the headers stay Japanese.
    lines.append([f"成果指標: {plan_name(value.code, value.name)}"])
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
