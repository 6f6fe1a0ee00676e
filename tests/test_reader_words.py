"""What people read: names not codes, messages in their language, Japanese fiscal years,
indicators rounded by unit with the target's outcome, and exports of a past date."""

import csv
import io
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from shapely.geometry import LineString, Point

from tracker.core import clock
from tracker.indicators.units import amount_text, quantity_text
from tracker.projects.history import append_past_status
from tracker.projects.operations import update_project
from tracker.projects.queries import ProjectFilter, works_by_area
from tracker.words.formatting import fiscal_year_label, fiscal_year_name, japanese_fiscal_year

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
LON, LAT = 131.10, 32.94


def text_of(html: str) -> str:
    """The page's visible text, roughly: scripts and tags out, whitespace squeezed."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- Names, not codes -----------------------------------------------------------------------


def test_the_project_page_names_plan_items_and_keeps_the_code_as_a_tooltip(client, make_project):
    project = make_project(plan_item_codes=["p1.m2.i1"], indicator_codes=["m13_bridges_repaired"])
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    page = text_of(html)
    assert "発展 › 社会インフラの復旧・機能強化（道路・河川・橋梁）" in page
    assert "p1.m2.i1" not in page and 'title="p1.m2.i1"' in html
    assert "m13_bridges_repaired" not in page and "補修済橋梁数" in page
    assert "（基準値 令和2年度: 18 橋 → 目標 令和6年度: 40 橋）" in page


def test_the_meeting_list_says_its_filters_in_words(client, make_project):
    make_project(kind="bridge", status="construction", indicator_codes=["m13_bridges_repaired"])
    query = "indicator=m13_bridges_repaired&kind=bridge&status=construction&fiscal_year=2016"
    note = re.search(
        r'<p class="filter-note">(.*?)</p>', client.get(f"/plan?{query}").get_data(as_text=True)
    )
    words = text_of(note.group(1))
    assert words.startswith("条件: 種別: 橋梁 ／ 状況: 工事中 ／ 成果指標: 補修済橋梁数")
    assert "平成28年度（2016年度）" in words and "m13_" not in words and "bridge" not in words
    english = client.get(f"/plan?{query}&lang=en").get_data(as_text=True)
    words = text_of(re.search(r'<p class="filter-note">(.*?)</p>', english).group(1))
    assert words.startswith("Filters: Kind: Bridge / Status: Under construction / Indicators:")
    assert "FY2016 (Heisei 28)" in words


def test_the_plan_item_filter_lists_names(client):
    html = client.get("/plan").get_data(as_text=True)
    option = re.search(r'<option value="p1.m2.i1"[^>]*>(.*?)</option>', html, flags=re.S)
    assert option.group(1).strip() == "社会インフラの復旧・機能強化（道路・河川・橋梁）"


# --- Messages in the reader's language ------------------------------------------------------

ERROR_PAGES = [
    ("/no-such-page", 404, "ページが見つかりません", "Page not found"),
    ("/plan?kind=boat", 400, "リクエストを読み取れません", "Bad request"),
    ("/plan/indicators/nope", 404, "この成果指標は見つかりません", "This indicator was not found"),
]


@pytest.mark.parametrize(("path", "status", "japanese", "english"), ERROR_PAGES)
def test_error_pages_speak_the_readers_language(client, path, status, japanese, english):
    page = client.get(path)
    assert page.status_code == status and japanese in page.get_data(as_text=True)
    glue = "&" if "?" in path else "?"
    html = client.get(path + glue + "lang=en").get_data(as_text=True)
    page = text_of(html)
    assert english in page
    # Werkzeug's own English page is never what people see.
    assert "The requested URL was not found" not in page
    # Only what is marked Japanese is: the language switch, and GSI's name for its tiles.
    marked = re.sub(r'<(span|a) [^>]*lang="ja"[^>]*>[^<]*</\1>', "", html)
    assert not JAPANESE.search(text_of(marked))


def test_method_not_allowed_and_too_large_and_failures_are_explained(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def fail():
        raise RuntimeError("boom")

    app.add_url_rule("/__fail", "fail", fail)
    answer = client.get("/logout")
    assert answer.status_code == 405 and "この方法では使えません" in answer.get_data(as_text=True)
    assert "POST" in answer.headers["Allow"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    answer = client.post("/login?lang=en", data={"login": "x" * 4096, "password": "y"})
    assert answer.status_code == 413
    assert "What you sent is too large (the limit is 1 KB)." in answer.get_data(as_text=True)
    answer = client.get("/__fail?lang=ja")
    assert answer.status_code == 500
    assert "何も保存されていません" in answer.get_data(as_text=True)
    assert client.get("/api/__fail").get_json() is not None  # the API's 404 is JSON too


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/projects?kind=castle", 400, "unknown_value"),
        ("/api/projects/999999", 404, "not_found"),
        ("/api/indicators?as_of=2024-02-30", 400, "invalid_input"),
        ("/api/projects/nearby?lat=abc&lon=131", 400, "not_a_number"),
    ],
)
def test_json_errors_carry_a_stable_code_and_words_in_the_readers_language(
    client, path, status, code
):
    japanese = client.get(path)
    glue = "&" if "?" in path else "?"
    english = client.get(path + glue + "lang=en")
    for answer in (japanese, english):
        assert answer.status_code == status and answer.get_json()["code"] == code
    assert JAPANESE.search(japanese.get_json()["error"])
    assert not JAPANESE.search(english.get_json()["error"]), english.get_json()["error"]


def test_an_unknown_kind_is_named_in_words_with_the_codes_for_programs(client):
    body = client.get("/api/projects?kind=castle").get_json()
    assert body["error"].startswith("kind: 「castle」は選べません。道路、橋梁、")
    assert body["allowed"] == [
        "road", "bridge", "revetment", "sabo", "shelter", "pavement", "seismic",
    ]  # fmt: skip


def test_a_line_mixing_heights_is_read_and_a_broken_one_explained_in_words(
    client, make_user, login_as
):
    login_as(make_user(role="staff"))
    feature = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[LON, LAT], [LON + 0.01, LAT, 512.0]]},
        "properties": {"name": "高さの混ざった線", "kind": "road", "department": "建設課"},
    }
    created = client.post("/api/projects", json=feature)
    assert created.status_code == 201
    line = created.get_json()["geometry"]["coordinates"]
    assert [c for point in line for c in point] == pytest.approx([LON, LAT, LON + 0.01, LAT])
    feature["geometry"] = {"type": "LineString", "coordinates": [[LON, LAT], [LON]]}
    refused = client.post("/api/projects?lang=en", json=feature).get_json()
    assert refused["code"] == "geometry_parse"
    assert refused["error"] == (
        "geometry: This cannot be read as GeoJSON or WKT "
        "(write each position as numbers [longitude, latitude])."
    )
    wkt = client.post(
        "/projects/new?lang=ja",
        data={
            "name": "x",
            "kind": "road",
            "department": "建設課",
            "geometry": "LINESTRING (1 2, 3",
            "status": "planned",
            "progress": "0",
        },
    )
    assert "WKT の書き方に誤りがあります" in wkt.get_data(as_text=True)
    assert "ParseException" not in wkt.get_data(as_text=True)


def test_a_self_crossing_shape_is_marked_where_it_crosses_on_the_form(client, make_user, login_as):
    login_as(make_user(role="staff"))
    bowtie = "POLYGON ((131.05 32.97, 131.06 32.98, 131.06 32.97, 131.05 32.98, 131.05 32.97))"
    page = client.post(
        "/projects/new",
        data={
            "name": "x",
            "kind": "sabo",
            "department": "建設課",
            "geometry": bowtie,
            "status": "planned",
            "progress": "0",
        },  # fmt: skip
    ).get_data(as_text=True)
    assert "Self-intersection" not in text_of(page)
    assert "線が自分自身と交差しています" in page and "経度 131.05500、緯度 32.97500 付近" in page
    options = json.loads(re.search(r"AsoEditor\.attach\([^,]+,\s*[^,]+,\s*(\{.*\})\);", page)[1])
    assert options["problemAt"] == pytest.approx([131.055, 32.975])


def test_the_drawing_tools_words_follow_the_reader(client, make_user, login_as):
    login_as(make_user(role="staff"))
    for lang, line, cancel in (("ja", "線を描く", "やめる"), ("en", "Draw a line", "Cancel")):
        page = client.get(f"/projects/new?lang={lang}").get_data(as_text=True)
        words = json.loads(re.search(r"AsoEditor\.useDrawWords\((\{.*?\})\);", page)[1])
        assert words["draw"]["toolbar"]["buttons"]["polyline"] == line
        assert words["edit"]["toolbar"]["actions"]["cancel"]["text"] == cancel


def test_map_words_pins_and_credits_in_english(app):
    from tracker.maps.page_data import map_labels

    with app.test_request_context("/?lang=en"):
        labels = map_labels()
    assert labels["glyphs"] == {
        "road": "Rd", "bridge": "Br", "revetment": "Em", "sabo": "Er", "shelter": "Sh",
        "pavement": "Rs", "seismic": "Eq", "other": "Ot",
    }  # fmt: skip
    assert 'GSI Tiles (<span lang="ja">地理院タイル</span>)' in labels["attribution"]
    assert labels["zoom"] == {"zoomInTitle": "Zoom in", "zoomOutTitle": "Zoom out"}
    with app.test_request_context("/"):
        labels = map_labels()
    assert labels["glyphs"]["bridge"] == "橋" and ">地理院タイル</a>" in labels["attribution"]


# --- Fiscal years ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "japanese", "label", "english"),
    [
        (2016, "平成28年度", "平成28年度（2016年度）", "FY2016 (Heisei 28)"),
        (2018, "平成30年度", "平成30年度（2018年度）", "FY2018 (Heisei 30)"),
        (2019, "令和元年度", "令和元年度（2019年度）", "FY2019 (Reiwa 1)"),
        (2024, "令和6年度", "令和6年度（2024年度）", "FY2024 (Reiwa 6)"),
        (1989, "平成元年度", "平成元年度（1989年度）", "FY1989 (Heisei 1)"),
    ],
)
def test_fiscal_years_are_named_from_heisei_on(year, japanese, label, english):
    assert japanese_fiscal_year(year) == japanese
    assert fiscal_year_label(year, "ja") == label
    assert fiscal_year_label(year, "en") == english
    assert fiscal_year_name(year, "en") == f"FY{year}"


def test_the_meeting_filter_offers_years_from_heisei(client):
    html = client.get("/plan").get_data(as_text=True)
    assert "平成28年度（2016年度）</option>" in html and "令和元年度（2019年度）</option>" in html


# --- Indicators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        ("6.637", "km", "6.6 km"),
        ("426.95", "km", "427.0 km"),
        ("227.289", "m", "227 m"),
        ("227.5", "m", "228 m"),
        ("19", "橋", "19 橋"),
        ("47.25", "%", "47.3%"),
        ("1228.4", "m", "1,228 m"),
    ],
)
def test_values_are_rounded_as_their_unit_is_read(value, unit, text):
    assert quantity_text(value, unit) == text
    assert amount_text(value, unit) == text.split()[0].removesuffix("%")


def test_a_passed_target_year_says_met_or_not_with_what_was_left(client, make_project):
    make_project(
        kind="bridge",
        status="completed",
        progress=100,
        actual_end=date(2023, 5, 1),
        indicator_codes=["m13_bridges_repaired"],
    )
    html = client.get("/plan/indicators").get_data(as_text=True)
    row = text_of(html.split('data-code="m13_bridges_repaired"')[1].split("</tr>")[0])
    # Entered today, it was not complete when fiscal 2024 ended: 18 of 40 then.
    assert "目標年度（令和6年度）終了: 未達（あと 22 橋）" in row and "現在: あと 21 橋" in row
    # Before the target year ended, no verdict: what is left to do.
    early = client.get("/plan/indicators?as_of=2024-06-30").get_data(as_text=True)
    row = text_of(early.split('data-code="m13_bridges_repaired"')[1].split("</tr>")[0])
    assert "目標年度" not in row and "あと" in row
    english = client.get("/plan/indicators?lang=en").get_data(as_text=True)
    assert "Target year (FY2024) over: not met (22 bridges short)" in english


def test_a_met_target_says_so(client, session, make_user, login_as):
    login_as(make_user(role="staff"))
    for value in ("50.0", "51.2"):
        client.post(
            "/plan/indicators/figures",
            data={
                "indicator": "m13_seismic_wooden_houses",
                "fiscal_year": "2024",
                "value": value,
                "source": "耐震化率調査",
            },
        )
    html = client.get("/plan/indicators").get_data(as_text=True)
    row = text_of(html.split('data-code="m13_seismic_wooden_houses"')[1].split("</tr>")[0])
    assert "目標年度（令和6年度）終了: 達成" in row and "51.2%" in row


def test_each_indicator_has_its_own_page_and_yearly_csv(client, make_project):
    done = make_project(
        name="宮地の橋 補修",
        kind="bridge",
        status="completed",
        progress=100,
        indicator_codes=["m13_bridges_repaired"],
    )
    page = client.get("/plan/indicators/m13_bridges_repaired")
    assert page.status_code == 200
    words = text_of(page.get_data(as_text=True))
    assert "補修を終えた橋梁の数（累計）" in words  # definition
    assert re.search(r"主要な施策「\s*道路施設等の長寿命化\s*」", words) and "○橋梁補修" in words
    assert "第2次阿蘇市総合計画 後期基本計画" in words and "（原文 704 行目）" in words
    # Baseline and target exactly as printed, under the plan's own headings.
    assert "成果指標名 基準値 R2 最終目標 R6 補修済橋梁数 18 橋 40 橋" in words
    assert "令和3年度以降に完了したものの数を足します" in words  # how it is derived
    assert "数えた事業（1 件）" in words and f'href="/projects/{done.id}"' in page.get_data(
        as_text=True
    )

    csv_answer = client.get("/plan/indicators/m13_road_improved.csv?as_of=2024-03-31")
    assert csv_answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="aso_indicator_m13_road_improved_asof_20240331.csv"'
        in (csv_answer.headers["Content-Disposition"])
    )
    rows = list(csv.reader(io.StringIO(csv_answer.data.decode("utf-8-sig"))))
    assert rows[0] == ["2024-03-31 の終わり（日本時間）時点の状況"]
    assert rows[2] == ["年度（西暦）", "年度", "値", "公式値", "単位", "記録値の出典"]
    assert rows[3][:3] == ["2020", "令和2年度", "426.9"] and rows[-1][0] == "2023"


def test_the_indicator_api_says_whether_each_target_was_met(client):
    items = client.get("/api/indicators?as_of=2026-01-15").get_json()["indicators"]
    bridges = next(i for i in items if i["code"] == "m13_bridges_repaired")
    assert bridges["target_year_over"] is True and bridges["target_met"] is False
    early = client.get("/api/indicators?as_of=2024-06-30").get_json()["indicators"]
    assert next(i for i in early if i["code"] == "m13_bridges_repaired")["target_met"] is None


# --- Exports of a past date -----------------------------------------------------------------


def test_an_as_of_export_shows_that_day_in_every_column(client, road_finished_later):
    road = road_finished_later
    answer = client.get("/plan/projects.csv?kind=road&as_of=2022-03-31")
    assert 'filename="aso_projects_asof_20220331.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0] == ["2022-03-31 の終わり（日本時間）時点の状況"]
    row = dict(zip(rows[1], next(r for r in rows[2:] if r[1] == "市道 改良"), strict=True))
    assert (row["状況"], row["進捗（%）"]) == ("工事中", "5")
    assert (row["実績開始"], row["実績終了"]) == ("2021-06-01", "")  # finished only later

    geo = client.get("/plan/projects.geojson?kind=road&as_of=2022-03-31&download=1")
    assert 'filename="aso_projects_asof_20220331.geojson"' in geo.headers["Content-Disposition"]
    body = json.loads(geo.data)
    assert body["as_of"] == "2022-03-31"
    props = next(f["properties"] for f in body["features"] if f["id"] == road.id)
    assert (props["status"], props["actual_start"], props["actual_end"]) == (
        "construction", "2021-06-01", None,
    )  # fmt: skip
    later = client.get("/plan/projects.csv?kind=road&as_of=2023-01-01").data.decode("utf-8-sig")
    assert "2022-11-10" in later


@pytest.fixture
def road_finished_later(session, make_project):
    """A road under way on 2022-03-31 (5 %) and finished on 2022-11-10, its cost entered
    only today."""
    road = make_project(
        name="市道 改良",
        kind="road",
        geometry=LineString([(LON, LAT), (LON, LAT + 0.005)]),
        planned_start=date(2021, 4, 1),
        planned_end=date(2022, 12, 31),
        actual_start=date(2021, 6, 1),
        created_at=_at(2021, 4, 1),
    )
    append_past_status(session, road.id, status="construction", progress=5,
                  recorded_at=_at(2021, 6, 1))  # fmt: skip
    append_past_status(session, road.id, status="completed", progress=100,
                  recorded_at=_at(2022, 11, 10))  # fmt: skip
    road.actual_end = date(2022, 11, 10)
    session.flush()
    update_project(
        session, road, {"planned_cost": 48_510_000}, expected_version=road.version, user=None
    )
    session.flush()
    return road


def _file_rows(fmt: str, data: bytes, tmp_path) -> tuple[list[dict], str]:
    """Return an export's rows by header, and where it says its date."""
    import sqlite3
    import zipfile

    from openpyxl import load_workbook
    from pyogrio import raw

    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        lines = list(sheet.iter_rows(values_only=True))
        said = f"{sheet.title} / {lines[0][0]}"
        headers = lines[1]
        return [dict(zip(headers, line, strict=True)) for line in lines[2:]], said
    if fmt == "gpkg":
        path = tmp_path / "export.gpkg"
        path.write_bytes(data)
        with sqlite3.connect(path) as db:
            said = db.execute("SELECT description FROM gpkg_contents").fetchone()[0]
        source = path
    else:
        archive = zipfile.ZipFile(io.BytesIO(data))
        said = " ".join(sorted(archive.namelist()))
        archive.extractall(tmp_path)
        source = next(tmp_path.glob("*_line.shp"))
    meta, _fids, _shapes, columns = raw.read(source, encoding="cp932" if fmt != "gpkg" else None)
    names = list(meta["fields"])
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    return rows, said


EXPORT_NAMES = {
    # format: (status, progress, actual end, cost) as each names its columns
    "xlsx": ("状況", "進捗（%）", "実績終了", "事業費（円）"),
    "gpkg": ("状況", "進捗（%）", "実績終了", "事業費（円）"),
    "shp.zip": ("status", "progress", "act_end", "plan_cost"),
}


@pytest.mark.parametrize("fmt", list(EXPORT_NAMES))
def test_every_file_export_of_a_past_date_says_it_and_shows_that_day(
    fmt, client, road_finished_later, tmp_path
):
    status, progress, actual_end, cost = EXPORT_NAMES[fmt]
    answer = client.get(f"/plan/projects.{fmt}?kind=road&as_of=2022-03-31")
    assert f'filename="aso_projects_asof_20220331.{fmt}"' in answer.headers["Content-Disposition"]
    rows, said = _file_rows(fmt, answer.data, tmp_path)
    if fmt == "shp.zip":
        assert "aso_projects_asof_20220331_line.shp" in said
    else:
        assert "2022-03-31 の終わり（日本時間）時点の状況" in said
    if fmt == "xlsx":
        assert said.startswith("事業一覧（20220331時点）")
    row = next(r for r in rows if r[next(iter(r))] == road_finished_later.id)
    assert (row[status], int(row[progress])) == ("工事中", 5)
    # Finished and costed only later: blank on that day.
    blank = (None, "")
    assert row[actual_end] in blank
    assert row[cost] in blank or row[cost] != row[cost]  # a GIS file's empty number is NaN


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_of_a_past_date_imports_back(
    fmt, client, session, make_user, login_as, road_finished_later
):
    from tracker.imports.operations import import_table
    from tracker.imports.reading import read_table

    user = make_user(role="staff")
    login_as(user)
    # The state of today, with the date line on top: importing it back changes nothing.
    today = clock.today().isoformat()
    data = client.get(f"/plan/projects.{fmt}?kind=road&as_of={today}").data
    table = read_table(data, f"export.{fmt}")
    assert table.headers[:3] == ["ID", "事業名", "種別"]
    assert any("日付の行として読み飛ばしました" in note for note in table.notes)
    report = import_table(session, table, user=user, dry_run=True)
    outcomes = {r.project_id: r.outcome for r in report.rows}
    assert outcomes[road_finished_later.id] == "unchanged", [
        (r.line, r.outcome, r.reason) for r in report.rows
    ]


def _at(year, month, day):
    from datetime import datetime

    from tracker.core.clock import JST

    return datetime(year, month, day, 12, 0, tzinfo=JST)


# --- Print ----------------------------------------------------------------------------------


def test_the_printed_sheet_names_its_filters_and_numbers_its_works(client, make_project):
    for i in range(3):
        make_project(
            name=f"橋 {i}", kind="bridge", status="construction",
            geometry=Point(131.0 + i * 0.05, 32.94),
        )  # fmt: skip
    html = client.get("/plan/print?size=A4&kind=bridge&status=construction").get_data(as_text=True)
    head = text_of(re.search(r'<header class="sheet-head">(.*?)</header>', html, re.S).group(1))
    assert "条件: 種別: 橋梁 ／ 状況: 工事中" in head and "kind=" not in head
    listed = re.findall(r'<ol class="sheet-list">(.*?)</ol>', html, re.S)[0]
    names = re.findall(r'<span lang="ja">(.*?)</span>', listed)
    numbers = re.findall(r'<g class="map-number">.*?<text[^>]*>(\d+)</text>', html)
    assert names == ["橋 0", "橋 1", "橋 2"] and numbers == ["1", "2", "3"]
    for part in ('class="map-scale"', ">5 km</text>", 'class="map-north"', ">北</text>"):
        assert part in html, part
    places = text_of(re.search(r'<g class="map-places"[^>]*>(.*?)</g>', html, re.S).group(1))
    assert "内牧" in places and "一の宮町宮地" in places and "波野" in places
    english = client.get("/plan/print?kind=bridge&lang=en").get_data(as_text=True)
    assert ">N</text>" in english and "Uchinomaki" in english and "Kind: Bridge" in english


# --- The works by district ------------------------------------------------------------------


def test_the_city_map_lists_works_by_district_for_readers_without_the_map(client, make_project):
    near_uchinomaki = make_project(name="内牧の橋", geometry=Point(131.041, 32.972))
    make_project(name="宮地の橋", geometry=Point(131.119, 32.941))
    hidden = make_project(name="職員のみの橋", geometry=Point(131.041, 32.9722), is_public=False)
    html = client.get("/").get_data(as_text=True)
    noscript = re.search(r"<noscript>(.*?)</noscript>", html, re.S).group(1)
    uchinomaki = noscript.split('id="area-d-uchinomaki"')[1].split("</section>")[0]
    assert f'href="/projects/{near_uchinomaki.id}"' in uchinomaki and "内牧の橋" in uchinomaki
    assert "宮地の橋" not in uchinomaki and hidden.name not in html
    full = client.get("/works?area=d-miyaji").get_data(as_text=True)
    assert "宮地の橋" in full and "内牧の橋" not in full
    assert client.get("/works?area=d-nowhere").status_code == 404


def test_each_district_keeps_its_first_works_by_name_and_counts_them_all(session, make_project):
    miyaji, uchinomaki = (131.119, 32.941), (131.041, 32.972)
    names = ["宮地 c", "宮地 a", "Miyaji", "宮地 b", "aso"]
    works = [
        make_project(name=name, geometry=Point(miyaji[0] + i * 0.001, miyaji[1]))
        for i, name in enumerate(names)
    ]
    other = make_project(name="内牧", geometry=Point(*uchinomaki))
    centres = [("miyaji", *miyaji), ("uchinomaki", *uchinomaki)]
    found = works_by_area(
        session, ProjectFilter(ids=[w.id for w in works] + [other.id]), centres, per_area=3
    )
    # Code point order: capitals, small letters, then kana and kanji.
    assert (
        [w.name for w in found["miyaji"].works] == sorted(names)[:3] == ["Miyaji", "aso", "宮地 a"]
    )
    assert found["miyaji"].total == 5
    assert [w.name for w in found["uchinomaki"].works] == ["内牧"] and found[
        "uchinomaki"
    ].total == 1
    assert works_by_area(session, ProjectFilter(ids=[]), centres) == {}


# --- The OGC API's own pages ----------------------------------------------------------------


class _InterfaceText(HTMLParser):
    """Collect a page's text less scripts, styles and what is marked as data (an element
    with a lang attribute or translate="no", and all inside it)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}  # fmt: skip

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open element: whether it is data
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        names = dict(attrs)
        data = (
            tag in ("script", "style")
            or (tag != "html" and "lang" in names)
            or names.get("translate") == "no"
        )
        self.stack.append(data or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def _unmarked_text(html: str) -> str:
    parser = _InterfaceText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


OGC_PAGES = [
    "/ogc/",
    "/ogc/conformance",
    "/ogc/api",
    "/ogc/collections",
    *(f"/ogc/collections/{cid}" for cid in ("projects", "restrictions", "shelters")),
    *(f"/ogc/collections/{cid}/items" for cid in ("projects", "restrictions", "shelters")),
]


@pytest.mark.parametrize("path", OGC_PAGES)
def test_the_ogc_api_pages_speak_english_to_an_english_reader(client, make_project, path):
    project = make_project(name="内牧の橋 補修")
    for page in (path, f"/ogc/collections/projects/items/{project.id}"):
        args = {"f": "html", "lang": "en"} | ({"limit": 3} if page.endswith("/items") else {})
        answer = client.get(page, query_string=args)
        assert answer.status_code == 200, page
        assert answer.mimetype == "text/html", page
        left = re.findall(
            r"\S*[\u3040-\u30ff\u3400-\u9fff]\S*", _unmarked_text(answer.get_data(as_text=True))
        )
        assert left == [], (page, left)
