"""A works officer's import and Excel export: synonyms, every reason of a row at once, works
known by their position only, refusals in the file's own words, and a readable workbook."""

import io
import re

import pytest
from openpyxl import load_workbook
from shapely.geometry import LineString
from sqlalchemy import select

from tests.test_import_page import finished, upload
from tests.test_imports import csv_bytes, run
from tracker.imports.operations import UnmappedColumns
from tracker.imports.wording import reason_text
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.models import Project
from tracker.projects.operations import update_project
from tracker.words.vocab import KIND_SYNONYMS, KINDS, STATUS_SYNONYMS, STATUSES
from tracker.worksfiles.values import parse_kind, parse_status, word_key

HEADER = "事業名,種別,状況,進捗率,担当課,計画開始,緯度,経度"
MIYAJI = "32.937,131.11879"


@pytest.fixture
def staff(make_user):
    return make_user(role="staff")


@pytest.mark.parametrize(
    ("words", "table", "codes"),
    [(KIND_SYNONYMS, KINDS, "kind"), (STATUS_SYNONYMS, STATUSES, "status")],
)
def test_every_synonym_names_one_code_and_every_code_has_synonyms(words, table, codes):
    assert set(words) == set(table), codes
    owners: dict[str, str] = {}
    for code, synonyms in words.items():
        for word in synonyms:
            assert owners.setdefault(word_key(word), code) == code, word


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("砂防", "sabo"),
        ("治山", "sabo"),
        ("砂防・治山", "sabo"),
        ("ｓａｂｏ", "sabo"),
        ("護岸", "revetment"),
        ("River Revetment", "revetment"),
        ("橋りょう", "bridge"),
    ],
)
def test_kinds_are_read_by_the_words_lists_use(app, cell, code):
    with app.test_request_context():
        assert parse_kind(cell) == code


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("施工中", "construction"),
        ("工事中", "construction"),
        ("In progress", "construction"),
        ("完成", "completed"),
        ("竣工", "completed"),
        ("完了", "completed"),
        ("計画中", "planned"),
        ("未着手", "planned"),
        ("Not started", "planned"),
        ("On hold", "suspended"),
    ],
)
def test_statuses_are_read_by_the_words_lists_use(app, cell, code):
    with app.test_request_context():
        assert parse_status(cell) == code


def test_a_file_in_the_officers_words_is_imported(session, staff):
    data = csv_bytes(
        [
            HEADER,
            f"宮地の砂防堰堤,砂防,施工中,40,建設課,R6.4.1,{MIYAJI}",
            f"宮地の橋,橋りょう,竣工,100,建設課,R5.4.1,{MIYAJI}",
        ]
    )
    report = run(session, data, "works.csv", user=staff)
    assert [r.outcome for r in report.rows] == ["created", "refused"]
    # 竣工 at 100 % needs its end date: the completion rule, the API's.
    assert "実績終了" in report.rows[1].reason
    sabo = session.scalar(select(Project).where(Project.name == "宮地の砂防堰堤"))
    assert report.written is False and sabo is None
    report = run(session, csv_bytes([HEADER, f"宮地の砂防堰堤,砂防,施工中,40,建設課,R6.4.1,{MIYAJI}"]),
                 "works.csv", user=staff)  # fmt: skip
    sabo = session.scalar(select(Project).where(Project.name == "宮地の砂防堰堤"))
    assert (sabo.kind, sabo.status, sabo.progress) == ("sabo", "construction", 40)


def test_every_reason_of_a_row_is_said_at_once(session, staff):
    data = csv_bytes(
        [
            HEADER,
            f"宮地の橋,つり橋,途中,百,建設課,昨日,{MIYAJI}",
            f",橋梁,工事中,50,,R6.4.1,{MIYAJI}",
        ]
    )
    report = run(session, data, "works.csv", user=staff, dry_run=True)
    first, second = report.rows
    assert first.outcome == second.outcome == "refused"
    assert [e.field for e in first.errors] == ["kind", "status", "progress", "planned_start"]
    for words in (
        "「つり橋」は使えません",
        "「途中」は使えません",
        "0〜100",
        "日付として読めません",
    ):
        assert words in first.reason
    # A new work's missing fields are named beside its other reasons.
    assert [e.field for e in second.errors] == ["name"]
    assert "事業名" in second.reason and "担当課" in second.reason


def test_a_line_kind_given_as_a_point_says_how_to_proceed(session, staff):
    data = csv_bytes([HEADER, f"宮地の市道,道路,工事中,10,建設課,R6.4.1,{MIYAJI}"])
    report = run(session, data, "works.csv", user=staff)
    (row,) = report.rows
    assert row.outcome == "refused"
    assert "「線の種別も位置（点）だけで取り込む」にチェック" in row.reason
    assert "LINESTRING" in row.reason


def test_a_point_is_accepted_for_a_line_kind_when_allowed(session, staff, client, login_as):
    data = csv_bytes([HEADER, f"宮地の市道,市道,工事中,10,建設課,R6.4.1,{MIYAJI}"])
    report = run(session, data, "works.csv", user=staff, position_only=True)
    assert [r.outcome for r in report.rows] == ["created"]
    road = session.scalar(select(Project).where(Project.name == "宮地の市道"))
    assert road.kind == "road" and road.position_only is True
    session.commit()

    feature = client.get(f"/api/projects/{road.id}").get_json()
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["position_only"] is True
    items = client.get(f"/ogc/collections/projects/items/{road.id}?f=json").get_json()
    assert items["properties"]["position_only"] is True
    page = client.get(f"/projects/{road.id}").get_data(as_text=True)
    assert "位置のみ（線はまだ描かれていません）" in page and "badge position-only" in page
    english = client.get(f"/projects/{road.id}?lang=en").get_data(as_text=True)
    assert "Position only (its line is not drawn yet)" in english

    # Drawing its line ends "position only".
    line = LineString([(131.11879, 32.937), (131.12, 32.938)])
    update_project(session, road, {"geometry": line}, expected_version=road.version, user=staff)
    assert road.position_only is False


def test_the_database_refuses_a_point_road_not_marked_position_only(session, make_project):
    road = make_project(kind="road")
    session.flush()
    with pytest.raises(Exception, match="ck_projects_line_kinds"), session.begin_nested():
        session.execute(
            Project.__table__.update()
            .where(Project.id == road.id)
            .values(geom="SRID=4326;POINT(131.11879 32.937)")
        )


def test_swapped_latitude_and_longitude_columns_are_named_as_columns(session, staff):
    data = csv_bytes([HEADER, "宮地の橋,橋梁,工事中,10,建設課,R6.4.1,131.11879,32.937"])
    (row,) = run(session, data, "works.csv", user=staff).rows
    assert "緯度の列（131.119）と経度の列（32.937）が入れ替わっているようです" in row.reason
    assert "経度、緯度の順" not in row.reason
    wkt = "事業名,種別,担当課,形状（WKT）\r\n宮地の橋,橋梁,建設課,POINT (32.937 131.11879)\r\n"
    (row,) = run(session, wkt.encode(), "works.csv", user=staff).rows
    assert "経度、緯度の順" in row.reason


def test_refusals_of_the_file_carry_no_raw_field_key(app):
    with app.test_request_context("/?lang=en"):
        words = reason_text(UnmappedColumns(["工区"]))
    assert not words.startswith("columns")
    assert "Some column headers cannot be read: 「工区」" in words


def test_the_page_lists_every_reason_and_the_accepted_words(app, client, staff, login_as):
    login_as(staff)
    data = csv_bytes([HEADER, f"宮地の橋,つり橋,途中,百,建設課,昨日,{MIYAJI}"])
    page = finished(app, client, upload(client, data, "works.csv"))
    text = page.get_data(as_text=True)
    reasons = re.search(r'<ul class="import-reasons">(.*?)</ul>', text, re.S).group(1)
    assert reasons.count("<li>") == 4
    assert "種別・状況に使える言葉" in text and "施工中" in text and "砂防" in text
    job = re.search(r"/projects/import/jobs/(\d+)/errors\.csv", text).group(1)
    errors = client.get(f"/projects/import/jobs/{job}/errors.csv")
    assert errors.status_code == 200
    lines = errors.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "行,事業,理由" and len(lines) == 5
    assert all(line.startswith("2,宮地の橋,") for line in lines[1:])
    english = client.get(f"/projects/import/jobs/{job}?lang=en").get_data(as_text=True)
    assert "Words accepted for kinds and statuses" in english
    assert "columns：" not in english


def test_the_excel_export_is_ready_to_read(client, session, make_project, make_user, login_as):
    item = session.scalar(select(PlanItem).order_by(PlanItem.code).limit(1))
    indicator = session.scalar(select(Indicator).order_by(Indicator.code).limit(1))
    make_project(
        name="宮地橋 補修",
        plan_item_codes=[item.code],
        indicator_codes=[indicator.code],
        planned_cost=48_510_000,
        contract_amount=45_100_000,
        spent_amount=1_000,
    )
    session.commit()
    login_as(make_user(role="viewer"))
    data = client.get("/plan/projects.xlsx").data
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    headers = [cell.value for cell in sheet[1]]
    last = sheet.cell(1, len(headers)).column_letter
    assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}"
    column = {header: index + 1 for index, header in enumerate(headers)}
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 2).value == "宮地橋 補修")
    for header in ("事業費（円）", "契約額（円）", "執行額（円）"):
        cell = sheet.cell(row, column[header])
        assert isinstance(cell.value, int) and cell.number_format == '#,##0"円"'
    assert sheet.cell(row, column["計画項目"]).value == item.code
    assert headers[column["計画項目"]] == "計画項目（名称）"
    assert sheet.cell(row, column["計画項目（名称）"]).value == item.name
    assert sheet.cell(row, column["成果指標（名称）"]).value == indicator.name
    widths = {h: sheet.column_dimensions[sheet.cell(1, i).column_letter].width
              for h, i in column.items()}  # fmt: skip
    assert widths["事業名"] >= 30 and widths["ID"] < 10 and widths["事業費（円）"] >= 14
    assert widths["計画項目（名称）"] >= 30


def test_what_the_reader_found_is_said_in_the_readers_language(app, client, staff, login_as):
    login_as(staff)
    data = csv_bytes([HEADER, f"宮地の橋,橋梁,工事中,10,建設課,2027-04-01,{MIYAJI}"], "cp932")
    page = finished(app, client, upload(client, data, "works.csv", epsg="4301"))
    japanese = page.get_data(as_text=True)
    assert "文字コード: Shift_JIS（cp932）" in japanese
    assert (
        "座標系（指定）: EPSG:4301" in japanese and "日本測地系：世界測地系に変換します" in japanese
    )
    english = client.get(f"{page.request.path}?lang=en").get_data(as_text=True)
    assert "Encoding: Shift_JIS (cp932)" in english
    assert "Coordinate system (as given): EPSG:4301" in english
    assert "Old Japanese datum (Tokyo): converted to JGD2011" in english
    assert "文字コード" not in english and "座標系" not in english
