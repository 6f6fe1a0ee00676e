"""The meeting map's filters, counts, Policy 1 coverage, past dates and changes since a date."""

import json
import re
from datetime import date, datetime

import pytest

from tracker.core.clock import JST
from tracker.projects.history import append_past_status
from tracker.words.vocab import input_label


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


def listed_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<li data-id="(\d+)"', html)}


def feature_ids(client, query: str) -> set[int]:
    body = json.loads(client.get("/plan/projects.geojson?" + query).data)
    return {f["id"] for f in body["features"]}


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-status="(\w+)">([\d,]+)<', html)
    return {status: int(n.replace(",", "")) for status, n in found}


@pytest.fixture
def works(make_project):
    """A handful of works across plan items, departments, years and statuses."""
    return {
        "bridge": make_project(
            name="宮地橋 補修",
            kind="bridge",
            status="completed",
            progress=100,
            plan_item_codes=["p1.m2.i1", "p5.m13.s1"],
            department="建設課",
            planned_start=date(2022, 5, 1),
            planned_end=date(2023, 2, 28),
        ),
        "road": make_project(
            name="市道 内牧線 改良",
            kind="road",
            status="construction",
            progress=40,
            plan_item_codes=["p1.m2.i1"],
            department="建設課",
            planned_start=date(2024, 4, 1),
            planned_end=date(2025, 3, 31),
        ),
        "sabo": make_project(
            name="坂梨 砂防堰堤",
            kind="sabo",
            status="planned",
            plan_item_codes=["p1.m2.i2"],
            department="農林整備課",
            planned_start=date(2025, 6, 1),
            planned_end=date(2026, 3, 1),
        ),
        "private": make_project(
            name="職員のみの検討",
            kind="sabo",
            status="design",
            is_public=False,
            plan_item_codes=["p1.m2.i2"],
            department="農林整備課",
        ),
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ("plan_item=p1.m2.i1", {"bridge", "road"}),
        ("plan_item=p1.m2", {"bridge", "road", "sabo"}),  # a measure includes its initiatives
        ("plan_item=p5.m13.s1", {"bridge"}),
        ("department=農林整備課", {"sabo"}),
        ("fiscal_year=2024", {"road"}),
        ("fiscal_year=2022&fiscal_year=2025", {"bridge", "sabo"}),
        ("q=内牧", {"road"}),
        ("kind=bridge,road&status=construction", {"road"}),
    ],
)
def test_filters_pick_the_same_works_for_list_and_map(client, works, query, expected):
    html = client.get("/plan?" + query).get_data(as_text=True)
    ids = {works[name].id for name in expected}
    assert listed_ids(html) == ids
    assert feature_ids(client, query) == ids
    assert sum(counts(html).values()) == len(ids)


def test_filters_live_in_the_url_and_the_map_reads_the_same_filter(client, works):
    html = client.get("/plan?plan_item=p1.m2&status=completed&fiscal_year=2022").get_data(
        as_text=True
    )
    # The map's vector tiles and every export carry the same query, so a view can be shared.
    assert (
        "/WebMercatorQuad/{z}/{y}/{x}?status=completed\\u0026plan_item=p1.m2\\u0026fiscal_year=2022"
        in html
    )
    assert (
        "/plan/projects.geojson?status=completed&amp;plan_item=p1.m2&amp;fiscal_year=2022" in html
    )
    assert "/plan/projects.csv?status=completed&amp;plan_item=p1.m2&amp;fiscal_year=2022" in html
    assert 'value="p1.m2" selected' in html
    assert "令和4年度（2022年度）</option>" in html


def test_counts_and_shares_by_status(client, works):
    html = client.get("/plan?plan_item=p1.m2").get_data(as_text=True)
    assert counts(html) == {
        "planned": 1,
        "design": 0,
        "construction": 1,
        "completed": 1,
        "suspended": 0,
    }
    assert "33.3%" in html
    assert "完了" in html and "工事中" in html and "未着手" in html


def test_staff_only_works_appear_only_for_signed_in_users(client, works, make_user, login_as):
    assert works["private"].id not in listed_ids(client.get("/plan").get_data(as_text=True))
    login_as(make_user(role="viewer"))
    assert works["private"].id in listed_ids(client.get("/plan").get_data(as_text=True))


def test_map_and_counts_as_they_stood_on_a_past_date(client, make_project, session):
    work = make_project(name="阿蘇大橋 取付道路", kind="road", created_at=at("2021-04-10 09:00"))
    append_past_status(
        session,
        work.id,
        status="construction",
        progress=10,
        recorded_at=at("2021-10-01 09:00"),
    )
    append_past_status(
        session,
        work.id,
        status="completed",
        progress=100,
        recorded_at=at("2022-03-31 18:00"),
    )
    later = make_project(name="後から登録", kind="bridge", created_at=at("2023-01-05 09:00"))
    session.flush()

    def status_on(day):
        body = json.loads(client.get(f"/plan/projects.geojson?as_of={day}").data)
        return {f["id"]: f["properties"]["status"] for f in body["features"]}

    assert status_on("2021-04-09").get(work.id) is None  # not registered yet
    assert status_on("2021-04-10")[work.id] == "planned"
    assert status_on("2022-03-30")[work.id] == "construction"
    assert status_on("2022-03-31")[work.id] == "completed"
    assert later.id not in status_on("2022-12-31")
    html = client.get("/plan?as_of=2022-03-30&kind=road").get_data(as_text=True)
    assert counts(html)["construction"] == 1 and counts(html)["completed"] == 0
    assert "2022-03-30 時点" in html


def test_policy1_coverage_counts_and_gaps(client, works):
    html = client.get("/plan/coverage").get_data(as_text=True)
    row = html.split('<tr data-code="p1.m2.i1"')[1].split("</tr>")[0]
    assert '<td class="num total">2</td>' in row
    gaps = set(re.findall(r'<li data-code="([\w.]+)"', html))
    # The works above serve p1.m2.i1 and i2. The GSI shelters are places, not works: they
    # do not fill 避難所運営 (p1.m1.i5).
    assert "p1.m2.i1" not in gaps and "p1.m2.i2" not in gaps
    assert "p1.m2.i3" in gaps and "p1.m1.i1" in gaps and "p1.m1.i5" in gaps
    assert len(gaps) == 8 + 10 - 2
    assert "事業がひとつもない取り組み（16 件）" in html


def test_policy1_coverage_as_of_a_date_before_the_works(client, works):
    html = client.get("/plan/coverage?as_of=2000-01-01").get_data(as_text=True)
    assert "事業がひとつもない取り組み（18 件）" in html


def test_changes_since_a_date_lists_new_status_changes_and_completions(
    client, make_project, session
):
    old = make_project(name="以前からの事業", created_at=at("2024-01-10 09:00"))
    append_past_status(
        session,
        old.id,
        status="construction",
        progress=20,
        recorded_at=at("2024-09-02 09:00"),
    )
    append_past_status(
        session,
        old.id,
        status="construction",
        progress=60,
        recorded_at=at("2024-09-20 09:00"),
    )  # progress only: a report of progress, listed apart from changes of status
    append_past_status(
        session,
        old.id,
        status="completed",
        progress=100,
        recorded_at=at("2024-10-15 09:00"),
    )
    make_project(name="新しい事業", created_at=at("2024-09-05 09:00"))
    make_project(name="古い事業", created_at=at("2023-01-05 09:00"))

    html = client.get("/plan/changes?since=2024-09-01&until=2024-12-31").get_data(as_text=True)
    categories = re.findall(r'<tr data-category="(\w+)">', html)
    assert categories == ["completed", "progress", "new", "status"]  # newest first
    assert "新しい事業" in html and "古い事業" not in html
    assert "工事中" in html and "完了" in html
    until = client.get("/plan/changes?since=2024-09-01&until=2024-09-30").get_data(as_text=True)
    assert re.findall(r'<tr data-category="(\w+)">', until) == ["progress", "new", "status"]


@pytest.mark.parametrize(
    "url, message",
    [
        ("/plan?as_of=2024-02-30", "as_of"),
        ("/plan?kind=boat", "kind"),
        ("/plan?status=done", "status"),
        ("/plan?plan_item=p9.m9", "plan_item"),
        ("/plan?indicator=m13_nothing", "indicator"),
        ("/plan?department=存在しない課", "department"),
        ("/plan?fiscal_year=R6", "fiscal_year"),
        ("/plan?fiscal_year=1899", "fiscal_year"),
        ("/plan/projects.geojson?plan_item=zzz", "plan_item"),
        ("/plan/projects.csv?as_of=tomorrow", "as_of"),
        ("/plan/print?size=B5", "size"),
        ("/plan/indicators?as_of=2023-13-01", "as_of"),
        ("/plan/coverage?as_of=0000-00-00", "as_of"),
        ("/plan/changes?since=2024-09-31", "since"),
        ("/plan/changes?since=2024-09-10&until=2024-09-01", "until"),
        ("/plan?as_of=9999-12-31", "as_of"),  # the day after has no date
        ("/plan/indicators?as_of=9999-12-31", "as_of"),
        ("/plan/changes?since=2024-09-01&until=9999-12-31", "until"),
        ("/plan/coverage?as_of=0001-01-01", "as_of"),
    ],
)
def test_bad_input_gets_a_clear_400(client, url, message):
    response = client.get(url)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # The refused parameter by its name in words, never the parameter's code.
    assert f'data-field="{message}"' in html
    refusal = re.search(r'<p class="refusal"[^>]*>(.*?)</p>', html).group(1)
    assert refusal.startswith(input_label(message) + "：") and message not in refusal


def test_print_sheet_has_the_map_picture_counts_and_indicators(client, works):
    html = client.get("/plan/print?size=A3&plan_item=p1.m2").get_data(as_text=True)
    assert 'class="sheet sheet--A3"' in html
    assert 'class="map-boundary"' in html
    assert 'class="map-projects map-completed"' in html
    assert "補修済橋梁数" in html and "戸建木造住宅耐震化率" in html
    assert "あと 22 橋" in html  # 40 - 18: the linked bridge is not linked to the indicator
    assert counts(html)["construction"] == 1
    assert 'class="sheet sheet--A4"' in client.get("/plan/print").get_data(as_text=True)
