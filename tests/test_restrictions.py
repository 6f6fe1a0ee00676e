"""Traffic restrictions as records of their own: lines, days and hours, reason and contact,
a history with one entry per event, and where they show: the API, the map layer, the
project page, /near and the feed."""

import json
import re
import warnings
from datetime import date, datetime, time, timedelta
from xml.etree import ElementTree as ET

import pytest
import time_machine
from shapely.geometry import LineString, Point
from sqlalchemy import select

from tests.conftest import MIYAJI_STATION
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.geo.geometry import GeometryRefused
from tracker.restrictions.models import RestrictionChange
from tracker.restrictions.operations import (
    StaleRestriction,
    add_restriction,
    change_restriction,
    end_restriction,
)
from tracker.restrictions.queries import _in_order
from tracker.restrictions.schedule import is_workday
from tracker.restrictions.wording import hours_label

LON, LAT = MIYAJI_STATION
SECTION = LineString([(LON, LAT), (LON + 0.002, LAT + 0.0005)])
DETOUR = LineString([(LON, LAT), (LON, LAT + 0.001), (LON + 0.002, LAT + 0.0005)])
A = "{http://www.w3.org/2005/Atom}"


def history(session, restriction):
    return session.execute(
        select(RestrictionChange.action, RestrictionChange.changes)
        .where(RestrictionChange.restriction_id == restriction.id)
        .order_by(RestrictionChange.id)
    ).all()


@pytest.fixture
def road(make_project):
    return make_project(name="市道 宮地駅前線 改良", kind="road")


@pytest.fixture
def weekday_morning():
    """Travel to the next working day (no weekend, no public holiday) at 10:00 in Japan, when a
    weekday daytime restriction is in force."""
    day = clock.today() + timedelta(days=1)
    while not is_workday(day):
        day += timedelta(days=1)
    with time_machine.travel(datetime.combine(day, time(10, 0), clock.JST), tick=False):
        yield


@pytest.fixture
def closure(session, road, make_user):
    return add_restriction(
        session,
        road,
        kind="closed",
        # Long enough ago to hold a working day whatever today is (Golden Week included).
        starts_on=clock.today() - timedelta(days=10),
        ends_on=clock.today() + timedelta(days=20),
        days="weekdays",
        time_from="8:30",
        time_until="17:00",
        description="平日昼間は通行止め",
        reason="舗装工事のため",
        contact="阿蘇市 建設課",
        section=SECTION,
        detour=DETOUR,
        user=make_user("staff"),
    )


def test_a_restriction_keeps_its_lines_hours_reason_contact_and_history(
    session, closure, make_user
):
    assert closure.time_from == time(8, 30) and closure.days == "weekdays"
    created = history(session, closure)
    assert [action for action, _ in created] == ["create"]
    assert created[0][1]["section"]["new"]["type"] == "LineString"
    assert created[0][1]["time_from"]["new"] == "08:30"

    change_restriction(
        session,
        closure,
        {"ends_on": clock.today() + timedelta(days=30), "contact": "建設課 道路係"},
        expected_version=closure.version,
        user=make_user("staff"),
    )
    end_restriction(session, closure, user=make_user("staff"))
    end_restriction(session, closure)  # lifting again changes nothing
    events = history(session, closure)
    assert [action for action, _ in events] == ["create", "update", "lift"]
    assert set(events[1][1]) == {"ends_on", "contact"}


def test_a_change_on_an_old_version_or_to_a_lifted_restriction_is_refused(
    session, closure, make_user
):
    opened_at = closure.version
    change_restriction(
        session, closure, {"reason": "雨で延期"}, expected_version=opened_at, user=None
    )
    with pytest.raises(StaleRestriction) as stale:
        change_restriction(
            session, closure, {"description": "上書き"}, expected_version=opened_at, user=None
        )
    assert stale.value.changed_fields == ["reason"]
    end_restriction(session, closure)
    with pytest.raises(BadInput, match="解除済み"):
        change_restriction(
            session, closure, {"reason": "x"}, expected_version=closure.version, user=None
        )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (lambda: {"section": Point(LON, LAT)}, "type"),
        (lambda: {"detour": Point(LON, LAT)}, "type"),
        (lambda: {"section": LineString([(130.5, 32.5), (130.51, 32.5)])}, "outside"),
        (lambda: {"section": LineString([(LON, LAT), (LON, LAT)])}, "invalid"),
        (lambda: {"section": LineString([(LON, LAT), (float("nan"), LAT)])}, "not_finite"),
        # The same vertex limit as a project's shape.
        (
            lambda: {"detour": LineString([(LON + i * 1e-7, LAT) for i in range(10_001)])},
            "vertices",
        ),
    ],
)
def test_lines_are_refused_as_project_geometries_are(session, road, fields, reason):
    with warnings.catch_warnings():
        # Shapely warns when it builds a line with NaN, which is the point here.
        warnings.simplefilter("ignore", RuntimeWarning)
        lines = fields()
    with pytest.raises(GeometryRefused) as refused:
        add_restriction(
            session,
            road,
            kind="closed",
            starts_on=clock.today(),
            description="通行止め",
            **lines,
        )
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"time_from": "8:30"}, "time_until", "両方"),
        ({"time_from": "25:00", "time_until": "26:00"}, "time_from", "8:30 のように"),
        ({"time_from": "9:00", "time_until": "9:00"}, "time_until", "同じ"),
        ({"days": "sometimes"}, "days", "毎日・平日・土日祝"),
        ({"kind": "boat"}, "kind", "種類"),
        ({"reason": "あ" * 201}, "reason", "200文字"),
    ],
)
def test_wrong_fields_are_refused_naming_them(session, road, fields, field, words):
    values = {"kind": "closed", "starts_on": clock.today(), "description": "通行止め"} | fields
    with pytest.raises(BadInput) as refused:
        add_restriction(session, road, **values)
    assert str(refused.value).startswith(f"{field}: ") and words in str(refused.value)


def test_hours_read_as_people_say_them(app):
    with app.test_request_context():
        assert hours_label("weekdays", "08:30", "17:00") == "平日 8:30〜17:00"
        assert hours_label("every_day", None, None) == "終日"
        assert hours_label("weekends", None, None) == "土日祝 終日"
        assert hours_label("every_day", "20:00", "06:00") == "毎日 20:00〜翌6:00"
    with app.test_request_context("/?lang=en"):
        assert hours_label("weekdays", time(8, 30), time(17, 0)) == "Weekdays 8:30 – 17:00"


def test_the_api_answers_geojson_filtered_by_day_and_box(
    client, session, road, closure, make_project
):
    coming = add_restriction(
        session,
        road,
        kind="alternating",
        starts_on=clock.today() + timedelta(days=40),
        description="片側交互通行の予定",
    )
    hidden = make_project(name="職員のみの工事", kind="road", is_public=False)
    add_restriction(session, hidden, kind="closed", starts_on=clock.today(), description="非公開")

    body = client.get("/api/restrictions").get_json()
    assert [f["id"] for f in body["features"]] == [closure.id, coming.id]
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert feature["geometry"]["coordinates"][0] == [LON, LAT]
    props = feature["properties"]
    assert props["kind"] == "closed" and props["project_name"] == "市道 宮地駅前線 改良"
    assert (props["days"], props["time_from"], props["time_until"]) == (
        "weekdays",
        "08:30",
        "17:00",
    )
    assert props["detour"]["type"] == "LineString" and props["section_drawn"] is True
    assert props["reason"] == "舗装工事のため" and props["contact"] == "阿蘇市 建設課"

    later = (clock.today() + timedelta(days=45)).isoformat()
    assert [
        f["id"] for f in client.get(f"/api/restrictions?active_on={later}").get_json()["features"]
    ] == [coming.id]
    assert client.get("/api/restrictions?bbox=130.9,32.8,131.0,32.9").get_json()["features"] == []
    near = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"
    assert len(client.get(f"/api/restrictions?bbox={near}").get_json()["features"]) == 2
    for bad in ("active_on=2026-02-30", "bbox=1,2,3", "active_on=tomorrow"):
        refused = client.get(f"/api/restrictions?{bad}")
        assert refused.status_code == 400 and refused.get_json()["error"], bad

    # Lifted: gone from today's answer, still in force on a working day before it was lifted.
    end_restriction(session, closure)
    assert closure.id not in [
        f["id"] for f in client.get("/api/restrictions").get_json()["features"]
    ]
    workday = clock.today() - timedelta(days=1)
    while not is_workday(workday):
        workday -= timedelta(days=1)
    assert workday >= closure.starts_on
    ids = [
        f["id"] for f in client.get(f"/api/restrictions?active_on={workday}").get_json()["features"]
    ]
    assert closure.id in ids


def test_a_restriction_without_a_section_is_shown_where_its_work_is(client, session, make_project):
    bridge = make_project(name="宮地橋 補修", kind="bridge")
    add_restriction(
        session,
        bridge,
        kind="heavy_vehicles",
        starts_on=clock.today(),
        description="大型車は通行できません",
    )
    feature = client.get("/api/restrictions").get_json()["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [LON, LAT]}
    assert feature["properties"]["section_drawn"] is False


def test_the_map_layer_names_kind_period_and_hours(weekday_morning, client, closure):
    body = client.get("/map/restrictions.geojson").get_json()
    props = body["features"][0]["properties"]
    assert props["kind_label"] == "通行止め" and props["hours_label"] == "平日 8:30〜17:00"
    assert "〜" in props["period_label"]
    english = client.get("/map/restrictions.geojson?lang=en").get_json()
    assert english["features"][0]["properties"]["kind_label"] == "Road closed"


def test_the_project_page_lists_its_restrictions_and_draws_their_lines(
    weekday_morning, client, road, closure
):
    page = client.get(f"/projects/{road.id}").text
    section = page[page.index('id="restrictions-heading"') :]
    assert "通行止め" in section and "平日 8:30〜17:00" in section and "舗装工事のため" in section
    assert "阿蘇市 建設課" in section and "実施中" in section
    assert '"className":"aso-section"' in page and '"className":"aso-detour"' in page


def test_near_shows_hours_reason_contact_and_draws_the_lines(
    weekday_morning, client, road, closure
):
    page = client.get(f"/near?lat={LAT}&lon={LON}&radius=500").text
    banner = page[page.index('class="restrictions-now"') : page.index('aria-labelledby="h-works"')]
    assert "平日 8:30〜17:00" in banner and "舗装工事のため" in banner and "阿蘇市 建設課" in banner
    assert "迂回路は地図の緑の点線です" in banner
    config = json.loads(re.search(r'id="near-config">(.*?)</script>', page, re.S).group(1))
    assert config["restrictions"][0]["section"]["type"] == "LineString"
    assert config["restrictions"][0]["detour"]["type"] == "LineString"


def test_the_feed_has_an_entry_when_a_restriction_is_added_changed_or_lifted(
    client, session, road, closure
):
    change_restriction(
        session, closure, {"reason": "工期延長"}, expected_version=closure.version, user=None
    )
    end_restriction(session, closure)
    feed = client.get(f"/near/feed.atom?lat={LAT}&lon={LON}&radius=1000")
    root = ET.fromstring(feed.data)
    titles = [e.find(f"{A}title").text for e in root.findall(f"{A}entry")]
    assert titles[:3] == [
        "通行規制の解除: 通行止め（市道 宮地駅前線 改良）",
        "通行規制の変更: 通行止め（市道 宮地駅前線 改良）",
        "新しい通行規制: 通行止め（市道 宮地駅前線 改良）",
    ]
    ids = [e.find(f"{A}id").text for e in root.findall(f"{A}entry")]
    assert len(set(ids)) == len(ids)
    far = ET.fromstring(client.get("/near/feed.atom?lat=32.90&lon=131.10&radius=500").data)
    assert [e.find(f"{A}title").text for e in far.findall(f"{A}entry")] == []


def test_staff_paste_lines_and_wrong_ones_are_refused_in_japanese(
    client, session, road, make_user, login_as
):
    login_as(make_user("staff"))
    url = f"/projects/{road.id}/restrictions"
    form = {
        "kind": "alternating",
        "starts_on": clock.today().isoformat(),
        "days": "every_day",
        "time_from": "08:00",
        "time_until": "17:00",
        "description": "片側交互通行",
        "section": json.dumps({"type": "Point", "coordinates": [LON, LAT]}),
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 400
    assert "規制区間には点の形は使えません。一本の線で描いてください。" in refused.text
    assert "section:" not in refused.text
    outside = client.post(url, data=form | {"section": "LINESTRING(130.5 32.5, 130.51 32.5)"})
    assert outside.status_code == 400 and "阿蘇市の区域から約" in outside.text

    lines = {"section": SECTION.wkt, "detour": json.dumps(DETOUR.__geo_interface__)}
    added = client.post(url, data=form | lines)
    assert added.status_code == 303
    page = client.get(url).text
    assert "片側交互通行" in page and "毎日 8:00〜17:00" in page and "迂回路あり" in page
    edit_url = re.search(r'href="(/restrictions/\d+/edit)"', page).group(1)
    edit = client.get(edit_url).text
    version = re.search(r'name="version" value="(\d+)"', edit).group(1)
    assert "LineString" in edit

    changed = client.post(
        edit_url,
        data=form | lines | {"reason": "拡幅工事のため", "version": version},
    )
    assert changed.status_code == 303
    stale = client.post(
        edit_url, data=form | lines | {"reason": "古い画面から", "version": version}
    )
    assert stale.status_code == 409
    assert "ほかの人がこの規制を変更しました（理由）" in stale.text
    assert "拡幅工事のため" in stale.text  # the form shows what is stored now


def test_the_sample_restrictions_have_their_lines(session):
    from config import ROOT
    from tracker.restrictions.models import TrafficRestriction
    from tracker.restrictions.operations import load_sample_restrictions
    from tracker.wiring.loaders import load_sample_projects

    load_sample_projects(session, ROOT / "geodata" / "sample_projects.geojson")
    load_sample_restrictions(session, ROOT / "geodata" / "sample_restrictions.csv")
    rows = session.scalars(select(TrafficRestriction)).all()
    assert (
        sum(r.geom is not None for r in rows) == 5
        and sum(r.detour_geom is not None for r in rows) == 2
    )
    assert {r.days for r in rows} == {"every_day", "weekdays"}
    assert all(len(history(session, r)) == 1 for r in rows)
    assert date(2026, 11, 1) in {r.starts_on for r in rows}


def test_each_work_and_instant_reads_through_one_kept_statement(client, closure, make_project):
    # The work, the day and the instant are bound: every work's page runs one statement.
    other = make_project(name="県道 阿蘇公園線 補修", kind="road")
    _in_order.cache_clear()
    for work_id in (closure.project_id, other.id, closure.project_id):
        assert client.get(f"/projects/{work_id}").status_code == 200
    assert _in_order.cache_info().misses == 1
    page = client.get(f"/projects/{closure.project_id}?lang=en").get_data(as_text=True)
    assert "平日昼間は通行止め" in page
