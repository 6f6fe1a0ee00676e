"""The /near page: works, restrictions and shelters near a place, without JavaScript."""

import json
import re
from datetime import date, datetime, timedelta

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import func, select

from config import ROOT
from tracker.city.places import districts
from tracker.core import clock
from tracker.geo.geometry import distance_outside_city
from tracker.projects.history import append_status
from tracker.projects.models import Project
from tracker.restrictions.models import TrafficRestriction
from tracker.restrictions.operations import add_restriction, load_sample_restrictions
from tracker.wiring.loaders import load_sample_projects

UCHINOMAKI = (131.0400, 32.9717)  # the 内牧 district centre in geodata/aso_districts.csv
M_PER_DEG_LAT = 110_940
# Works planned to end in March 2027 are told as still to come before then.
BEFORE_THE_PLANNED_END = datetime(2026, 12, 10, 10, 0, tzinfo=clock.JST)


def north_of_uchinomaki(metres: float) -> Point:
    return Point(UCHINOMAKI[0], UCHINOMAKI[1] + metres / M_PER_DEG_LAT)


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags out, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_form_offers_districts_landmarks_and_three_radii(client):
    html = client.get("/near").get_data(as_text=True)

    assert '<html lang="ja">' in html
    assert '<form class="near-form" method="get"' in html
    for name in (
        "内牧",
        "一の宮町宮地",
        "一の宮町坂梨",
        "波野",
        "赤水",
        "宮地駅",
        "阿蘇神社",
        "道の駅 阿蘇",
    ):
        assert re.search(rf"<option value=\"[dp]-[\w-]+\">{name}</option>", html), name
    # Tunnel portals are not places to live near.
    assert "坑口" not in html
    assert re.findall(r'name="radius" value="(\d+)"', html) == ["500", "1000", "3000"]
    assert '<label for="near-place">' in html


@pytest.mark.time_machine(BEFORE_THE_PLANNED_END)
def test_results_are_sorted_with_distance_plain_status_and_completion(client, make_project):
    make_project(
        name="内牧の橋", geometry=north_of_uchinomaki(400), status="construction", progress=40,
        planned_end=date(2027, 3, 15),
    )  # fmt: skip
    make_project(
        name="内牧の砂防", kind="sabo", geometry=north_of_uchinomaki(120), status="completed",
        progress=100, actual_start=date(2022, 5, 1), actual_end=date(2023, 10, 20),
    )  # fmt: skip
    make_project(name="遠くの橋", geometry=north_of_uchinomaki(1500))

    answer = client.get("/near?place=d-uchinomaki&radius=1000")
    page = text_of(answer.get_data(as_text=True))

    assert answer.status_code == 200
    assert "内牧から1 km以内の工事" in page
    assert page.index("内牧の砂防") < page.index("内牧の橋")
    assert "遠くの橋" not in page
    assert "ここから約 120 m" in page and "ここから約 400 m" in page
    assert "工事中です（進捗 40%）" in page
    assert "2027年3月（令和8年度）完了予定" in page
    assert "完了しました" in page and "2023年10月（令和5年度）に完了" in page


def test_restrictions_in_force_are_shown_first_and_past_ones_not(client, session, make_project):
    project = make_project(
        name="市道内牧線", kind="road",
        geometry=LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.003, UCHINOMAKI[1])]),
        status="construction",
    )  # fmt: skip
    today = clock.today()
    ends = today + timedelta(days=40)
    add_restriction(
        session, project, kind="closed", starts_on=today - timedelta(days=1),
        ends_on=ends, description="終日通行止め、歩行者は通れます",
    )  # fmt: skip
    add_restriction(
        session, project, kind="alternating", starts_on=date(2020, 1, 1),
        ends_on=date(2020, 3, 1), description="終わった片側交互通行",
    )  # fmt: skip

    html = client.get("/near?place=d-uchinomaki&radius=500").get_data(as_text=True)

    banner = html[html.index('class="restrictions-now"') : html.index('aria-labelledby="h-works"')]
    assert "いま実施中の通行規制" in banner
    assert (
        "通行止め" in banner
        and "市道内牧線" in banner
        and "終日通行止め、歩行者は通れます" in banner
    )
    assert f"{ends.year}年{ends.month}月{ends.day}日" in banner
    assert "終わった片側交互通行" not in html


def test_nearest_designated_shelters_are_marked_with_their_distance(client):
    html = client.get("/near?place=d-uchinomaki&radius=500").get_data(as_text=True)
    section = text_of(html[html.index('id="h-shelters"') :])

    # 阿蘇体育館, 阿蘇中学校体育館 and 農村環境改善センター stand in 内牧.
    assert section.count("指定避難所") >= 3
    for name in ("阿蘇体育館", "阿蘇中学校体育館", "農村環境改善センター"):
        assert name in section
    assert re.search(r"約 \d+ m", section)
    assert "出典：国土地理院" in section


def test_staff_only_projects_and_internal_fields_never_reach_the_page(
    client, session, make_project, make_user, login_as
):
    public = make_project(name="公開の工事", geometry=north_of_uchinomaki(50), department="秘密課")
    append_status(session, public.id, status="construction", progress=10, note="業者との内部メモ")
    make_project(name="職員のみの計画", geometry=north_of_uchinomaki(60), is_public=False)
    login_as(make_user(role="admin"))

    html = client.get("/near?place=d-uchinomaki&radius=1000").get_data(as_text=True)

    assert "公開の工事" in html
    for secret in ("職員のみの計画", "秘密課", "業者との内部メモ"):
        assert secret not in html


def test_a_point_from_the_map_or_the_location_button_works_too(client, make_project):
    make_project(name="地点の近くの橋", geometry=north_of_uchinomaki(200))
    page = text_of(
        client.get(f"/near?lat={UCHINOMAKI[1]}&lon={UCHINOMAKI[0]}&radius=500").get_data(
            as_text=True
        )
    )
    assert "選んだ地点から500 m以内の工事" in page
    assert "地点の近くの橋" in page


def test_each_pin_sits_where_its_work_comes_closest_to_the_chosen_point(client, make_project):
    bridge = make_project(name="北の橋", geometry=north_of_uchinomaki(200))
    # A road running east–west 300 m north of the point: its pin sits straight north.
    north = north_of_uchinomaki(300).y
    road = make_project(
        name="北の道路",
        kind="road",
        geometry=LineString([(UCHINOMAKI[0] - 0.01, north), (UCHINOMAKI[0] + 0.01, north)]),
    )
    html = client.get(f"/near?lat={UCHINOMAKI[1]}&lon={UCHINOMAKI[0]}&radius=500").get_data(
        as_text=True
    )
    config = json.loads(re.search(r'id="near-config">(.*?)</script>', html, re.S).group(1))
    pins = {pin["id"]: (pin["lon"], pin["lat"]) for pin in config["pins"]}
    assert pins[bridge.id] == pytest.approx((UCHINOMAKI[0], north_of_uchinomaki(200).y))
    assert pins[road.id] == pytest.approx((UCHINOMAKI[0], north), abs=1e-6)


def alert_of(answer) -> str:
    html = answer.get_data(as_text=True)
    return text_of(re.search(r'<p class="form-error" role="alert">(.*?)</p>', html).group(1))


def test_bad_input_is_explained_on_the_page_in_the_readers_language(client):
    answer = client.get("/near?lat=abc&lon=131&radius=500")
    assert answer.status_code == 400
    assert alert_of(answer) == (
        "場所または範囲の指定を読み取れませんでした。一覧から選び直してください。"
    )
    unknown = client.get("/near?place=d-nowhere")
    assert unknown.status_code == 400
    assert alert_of(unknown) == "選んだ場所が見つかりません。一覧から選び直してください。"
    # "Use my location" pressed in Kumamoto city, 26 km beyond the boundary.
    far = client.get("/near?lat=32.80&lon=130.71&radius=1000")
    assert far.status_code == 400
    assert alert_of(far).startswith("その地点は阿蘇市の境界から約26 km離れています。")
    english = client.get("/near?lat=32.80&lon=130.71&radius=1000&lang=en")
    assert alert_of(english).startswith("That point is about 26 km outside Aso City.")
    # The form is still there to pick a place from the list.
    assert '<select id="near-place" name="place">' in far.get_data(as_text=True)


@pytest.mark.time_machine(BEFORE_THE_PLANNED_END)
def test_english_switch_is_remembered(client, make_project):
    make_project(
        name="内牧の橋", geometry=north_of_uchinomaki(400), status="construction", progress=40,
        planned_end=date(2027, 3, 15),
    )  # fmt: skip
    japanese = client.get("/near").get_data(as_text=True)
    assert 'href="/near?lang=en"' in japanese and ">English</a>" in japanese

    switched = client.get("/near?place=d-uchinomaki&radius=1000&lang=en")
    assert "lang=en" in switched.headers["Set-Cookie"]

    later = client.get("/near?place=d-uchinomaki&radius=1000")  # the cookie, no ?lang=
    html = later.get_data(as_text=True)
    page = text_of(html)
    assert '<html lang="en">' in html
    assert "Works within 1 km of Uchinomaki" in page
    assert "Under construction (progress 40%)" in page
    assert "Expected to finish in March 2027, FY2026 (Reiwa 8)" in page
    assert "令和" not in page
    assert "Nearest shelters" in page and "Designated shelter" in page
    assert ">日本語</a>" in html

    client.get("/near?lang=ja")
    assert '<html lang="ja">' in client.get("/near").get_data(as_text=True)


def test_district_centres_lie_in_the_city(app, session):
    with app.app_context():
        places = districts()
    assert len(places) >= 12
    for place in places:
        outside = distance_outside_city(session, Point(place.lon, place.lat))
        assert outside == 0, place.name


def test_sample_restrictions_load_onto_sample_projects(session):
    load_sample_projects(session, ROOT / "geodata" / "sample_projects.geojson")
    message = load_sample_restrictions(session, ROOT / "geodata" / "sample_restrictions.csv")

    assert message == "sample restrictions: loaded 6"
    names = session.scalars(
        select(Project.name).join(TrafficRestriction, TrafficRestriction.project_id == Project.id)
    ).all()
    assert "市道門前町線 舗装更新工事" in names
    assert session.scalar(select(func.bool_and(Project.is_sample)).join(TrafficRestriction)) is True
    assert load_sample_restrictions(session, ROOT / "geodata" / "sample_restrictions.csv") == (
        "sample restrictions: already loaded"
    )


def test_staff_add_and_lift_a_restriction(client, make_project, make_user, login_as):
    project = make_project(name="狩尾橋 補修", geometry=north_of_uchinomaki(100))
    url = f"/projects/{project.id}/restrictions"
    assert client.get(url).status_code in (302, 303)  # anonymous: off to sign in
    login_as(make_user(role="viewer"))
    assert client.post(url, data={}).status_code == 403

    login_as(make_user(role="staff"))
    form = client.get(url).get_data(as_text=True)
    assert '<label for="r-text">' in form
    refused = client.post(
        url, data={"kind": "closed", "starts_on": "2026-01-01", "description": ""}
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.get_data(as_text=True)
    assert "通行する人に何が変わるかを短く書いてください" in refused.get_data(as_text=True)
    backwards = client.post(
        url,
        data={"kind": "closed", "starts_on": "2026-02-01", "ends_on": "2026-01-01",
              "description": "通行止め"},
    )  # fmt: skip
    assert "終了日が開始日より前になっています" in backwards.get_data(as_text=True)
    added = client.post(
        url,
        data={
            "kind": "closed",
            "starts_on": (clock.today() - timedelta(days=1)).isoformat(),
            "ends_on": "",
            "description": "橋の上は通行止め",
        },
    )
    assert added.status_code == 303
    assert "橋の上は通行止め" in client.get("/near?place=d-uchinomaki").get_data(as_text=True)

    restriction_id = re.search(r"/restrictions/(\d+)/end", client.get(url).get_data(as_text=True))
    lifted = client.post(f"/restrictions/{restriction_id.group(1)}/end")
    assert lifted.status_code == 303
    assert "解除済み" in client.get(url).get_data(as_text=True)
    assert "橋の上は通行止め" not in client.get("/near?place=d-uchinomaki").get_data(as_text=True)
