"""Exports name plan items, indicators and a kind's own fields in the reader's language;
the headers (and the Japanese as printed) stay for Japanese readers and for the import."""

import csv
import io

from openpyxl import load_workbook

from tracker.plan.names import ENGLISH_NAMES

# The plan's item p1.m2.i1 as printed.
PRINTED_ITEM = "社会インフラの復旧・機能強化（道路・河川・橋梁）"


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _bridge(make_project):
    return make_project(
        name="宮地橋 補修",
        kind="bridge",
        plan_item_codes=["p1.m2.i1"],
        indicator_codes=["m13_bridges_repaired"],
        details={"bridge_number": "B-12", "span_m": 35.5},
    )


def test_csv_names_plan_items_and_kind_fields_in_japanese(client, make_project):
    _bridge(make_project)
    (row,) = _csv_rows(client.get("/plan/projects.csv?kind=bridge").data)
    assert row["計画項目"] == "p1.m2.i1"
    assert row["計画項目（名称）"] == PRINTED_ITEM
    assert row["成果指標（名称）"] == "補修済橋梁数"
    assert row["種別ごとの項目"] == "橋梁番号：B-12／橋長（m）：35.5"


def test_csv_and_excel_name_them_in_english_for_english_readers(
    client, make_project, make_user, login_as
):
    _bridge(make_project)
    japanese = client.get("/plan/projects.csv?kind=bridge")
    assert "宮地橋" in japanese.get_data(as_text=True)  # read to its end, as a browser does
    english = client.get("/plan/projects.csv?kind=bridge&lang=en")
    # One language's copy is never answered for the other.
    assert japanese.headers["ETag"] != english.headers["ETag"]
    (row,) = _csv_rows(english.data)
    # Headers stay Japanese: the file imports again whatever the reader's language.
    assert row["計画項目"] == "p1.m2.i1"
    assert row["計画項目（名称）"] == ENGLISH_NAMES["p1.m2.i1"]
    assert row["成果指標（名称）"] == ENGLISH_NAMES["m13_bridges_repaired"]
    assert row["種別ごとの項目"] == "Bridge number: B-12／Span (m): 35.5"

    login_as(make_user(role="viewer"))
    data = client.get("/plan/projects.xlsx?kind=bridge&lang=en").data
    sheet = load_workbook(io.BytesIO(data)).active
    headers = [cell.value for cell in sheet[1]]
    values = dict(zip(headers, [cell.value for cell in sheet[2]], strict=True))
    assert values["計画項目（名称）"] == ENGLISH_NAMES["p1.m2.i1"]
    assert values["成果指標（名称）"] == ENGLISH_NAMES["m13_bridges_repaired"]
    assert values["種別ごとの項目"] == "Bridge number: B-12／Span (m): 35.5"


def test_indicator_csv_names_the_indicator_in_the_readers_language(client):
    japanese = client.get("/plan/indicators/m13_bridges_repaired.csv").data.decode("utf-8-sig")
    english = client.get("/plan/indicators/m13_bridges_repaired.csv?lang=en").data
    assert japanese.splitlines()[0] == "成果指標: 補修済橋梁数"
    assert english.decode("utf-8-sig").splitlines()[0] == (
        f"成果指標: {ENGLISH_NAMES['m13_bridges_repaired']}"
    )
