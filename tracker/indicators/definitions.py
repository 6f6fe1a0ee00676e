"""What each indicator of measure 13 means, and where the plan prints it.

The plan names the indicators and prints their baseline and target, nothing more; the meaning
given here is how this app reads and counts each one, tied to the plan's own 主要な施策 and
主な事務・事業 that the indicator measures.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.indicators.queries import MEASURE_CODE
from tracker.plan.models import PlanItem
from tracker.words.vocab import N_

EXCERPT_FILE = "plan_source_excerpt.txt"


@dataclass(frozen=True)
class Definition:
    """What an indicator counts, and the plan's 施策 (by name) and 事務・事業 it follows."""

    meaning: str
    shisaku: str
    activity: str | None


DEFINITIONS = {
    "m13_bridges_repaired": Definition(
        N_("補修を終えた橋梁の数（累計）。"), "道路施設等の長寿命化", "橋梁補修"
    ),
    "m13_pavement_renewed": Definition(
        N_("舗装を更新した道路の延長（累計、km）。"), "道路施設等の長寿命化", "舗装更新"
    ),
    "m13_road_improved": Definition(
        N_("改良を終えた道路の延長（累計、km）。"), "道路施設等の整備", "道路新設改良"
    ),
    "m13_revetment": Definition(
        N_("整備を終えた河川護岸の延長（累計、m）。"), "河川施設等の整備", "河川改修"
    ),
    "m13_seismic_wooden_houses": Definition(
        N_("戸建木造住宅のうち、耐震性のあるものの割合（%）。"),
        "住宅・建築物の耐震化促進",
        "戸建て木造住宅耐震改修等事業",
    ),
    "m13_seismic_city_buildings": Definition(
        N_("市有建築物のうち、耐震性のあるものの割合（%）。"), "住宅・建築物の耐震化促進", None
    ),
    "m13_seismic_private_buildings": Definition(
        N_("民間建築物のうち、耐震性のあるものの割合（%）。"), "住宅・建築物の耐震化促進", None
    ),
}

# How the current value is found, by method (see tracker.indicators.queries).
METHOD_TEXT = {
    "count": N_(
        "基準値（令和2年度末）に、この指標に紐付いた事業のうち令和3年度以降に完了したものの数を足します。"
        "完了した日は状況の履歴から読みます。"
    ),
    "length": N_(
        "基準値（令和2年度末）に、この指標に紐付いた線の事業のうち令和3年度以降に完了したものの延長"
        "（地図上の線の測地線長）を足します。完了した日は状況の履歴から読みます。"
    ),
    "recorded": N_(
        "事業からは計算できないため、職員が出典とともに記録した年度ごとの値を使います。"
        "記録がまだない間は基準値です。"
    ),
}


@dataclass(frozen=True)
class PrintedRow:
    """An indicator's row in the plan as printed: the table's header and the row, by line."""

    source: str
    header_line: int
    header: tuple[str, ...]
    line: int
    cells: tuple[str, ...]


def printed_row(geodata_dir: str, name: str) -> PrintedRow | None:
    """Find an indicator's row in the plan's text by its name, with the header above it."""
    source, lines = _excerpt(str(Path(geodata_dir) / EXCERPT_FILE))
    header = None
    for number, text in lines:
        cells = tuple(text.split("\t"))
        if cells[0] == "成果指標名":
            header = (number, cells)
        elif cells[0] == name and header is not None:
            return PrintedRow(source, header[0], header[1], number, cells)
    return None


@lru_cache(maxsize=2)
def _excerpt(path: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    source = ""
    lines = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        if raw.startswith("# 出典: "):
            source = raw.removeprefix("# 出典: ")
        number, sep, text = raw.partition(": ")
        if sep and number.isdigit():
            lines.append((int(number), text))
    return source, tuple(lines)


def plan_shisaku(session: Session, name: str) -> PlanItem | None:
    """Return measure 13's 主要な施策 of this name, as the plan prints it."""
    return session.scalar(
        select(PlanItem).where(
            PlanItem.level == "shisaku",
            PlanItem.name == name,
            PlanItem.parent.has(code=MEASURE_CODE),
        )
    )
