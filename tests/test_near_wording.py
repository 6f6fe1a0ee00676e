"""How /near says dates: month, Japanese fiscal year (April to March) and 令和 era."""

from datetime import date

import pytest

from tracker.words.wording import completion_label, distance_label, fiscal_label


@pytest.mark.parametrize(
    ("day", "japanese", "english"),
    [
        # March still belongs to the fiscal year that began the April before.
        (date(2027, 3, 31), "令和8年度", "FY2026 (Reiwa 8)"),
        (date(2027, 4, 1), "令和9年度", "FY2027 (Reiwa 9)"),
        (date(2027, 1, 15), "令和8年度", "FY2026 (Reiwa 8)"),
        (date(2026, 12, 31), "令和8年度", "FY2026 (Reiwa 8)"),
        # Reiwa's first fiscal year is called 元年度; the one before it was still Heisei.
        (date(2020, 3, 31), "令和元年度", "FY2019 (Reiwa 1)"),
        (date(2019, 3, 31), "平成30年度", "FY2018 (Heisei 30)"),
        (date(2016, 4, 1), "平成28年度", "FY2016 (Heisei 28)"),
    ],
)
def test_fiscal_year_turns_in_april(day, japanese, english):
    assert fiscal_label(day, "ja") == japanese
    assert fiscal_label(day, "en") == english


def test_completion_says_month_and_fiscal_year(app):
    works = {"status": "construction", "planned_end": "2027-03-15"}
    with app.test_request_context("/near"):
        assert completion_label(works, "ja") == "2027年3月（令和8年度）完了予定"
        late = completion_label(works, "ja", today=date(2027, 4, 2))
        assert late == "2027年3月（令和8年度）完了予定（予定を過ぎています）"
        done = {"status": "completed", "actual_end": "2027-04-01"}
        assert completion_label(done, "ja") == "2027年4月（令和9年度）に完了"
        assert completion_label({"status": "planned", "planned_end": None}, "ja") == "未定"
    with app.test_request_context("/near?lang=en"):
        assert completion_label(works, "en") == "Expected to finish in March 2027, FY2026 (Reiwa 8)"


@pytest.mark.parametrize(
    ("metres", "label"),
    [
        (0, "10 m"),
        (344, "340 m"),
        (994, "990 m"),
        (996, "1 km"),
        (999.9, "1 km"),
        (1000, "1 km"),
        (1260, "1.3 km"),
        (3000, "3 km"),
    ],
)
def test_distances_read_as_people_say_them(metres, label):
    assert distance_label(metres) == label
