"""The plan catalogue matches the plan's text character for character."""

import re

from sqlalchemy import select

from tests.conftest import GEODATA
from tracker.plan.models import Indicator, PlanItem

SOURCE = (GEODATA / "plan_source_excerpt.txt").read_text(encoding="utf-8")
SOURCE_LINES = [re.sub(r"^\d{4}: ", "", line) for line in SOURCE.splitlines()]


def _initiatives_in_source(heading: str) -> list[str]:
    """Read the ◇ bullets under the 主な取り組み that follows a measure heading."""
    start = next(i for i, line in enumerate(SOURCE_LINES) if heading in line)
    names = []
    for line in SOURCE_LINES[start + 1 :]:
        if line.startswith("- ◇"):
            names.append(line.removeprefix("- ◇"))
        elif names and line.strip():
            break
    return names


def _children(session, code: str) -> list[PlanItem]:
    parent = session.scalar(select(PlanItem).where(PlanItem.code == code))
    return parent.children


def test_policy_1_measures_and_initiatives_match_the_plan(session):
    for code, heading, expected_count in (
        ("p1.m1", "(1) 実施施策1「備える」", 8),
        ("p1.m2", "(2) 実施施策 2 「発展」", 10),
    ):
        names = [item.name for item in _children(session, code)]
        assert names == _initiatives_in_source(heading)
        assert len(names) == expected_count
    measures = _children(session, "p1")
    assert [(m.number, m.name) for m in measures] == [(1, "備える"), (2, "発展")]
    assert "重点政策「復旧・復興から発展」" in SOURCE


def test_measure_13_shisaku_match_the_plan_table(session):
    measure = session.scalar(select(PlanItem).where(PlanItem.code == "p5.m13"))
    assert measure.name == "安心・安全なインフラ環境整備と住宅等耐震化の推進"
    assert measure.department == "建設課"
    assert measure.parent.code == "p5" and measure.parent.name == "安全"
    for item in measure.children:
        activities = " ".join(f"○{a}" for a in item.activities)
        row = f"{item.name}\t{item.content}\t{item.effect}\t{activities}"
        assert row in SOURCE_LINES, row
    assert len(measure.children) == 4


def test_measure_13_has_seven_indicators_as_printed(session):
    indicators = session.scalars(select(Indicator).order_by(Indicator.number)).all()
    assert len(indicators) == 7
    for indicator in indicators:
        row = f"{indicator.name}\t{indicator.baseline_label}\t{indicator.target_label}"
        assert row in SOURCE_LINES, row
        assert (indicator.baseline_year, indicator.target_year) == (2020, 2024)
        # The numbers stored for arithmetic are the printed ones.
        assert indicator.baseline_label.replace(" ", "").startswith(
            f"{float(indicator.baseline):g}"
        )
        assert indicator.target_label.replace(" ", "").startswith(f"{float(indicator.target):g}")
    by_code = {i.code: i for i in indicators}
    bridges = by_code["m13_bridges_repaired"]
    assert (bridges.name, bridges.baseline, bridges.target, bridges.unit) == (
        "補修済橋梁数",
        18,
        40,
        "橋",
    )
    pavement = by_code["m13_pavement_renewed"]
    assert (float(pavement.baseline), float(pavement.target), pavement.unit) == (4.3, 7.1, "km")
