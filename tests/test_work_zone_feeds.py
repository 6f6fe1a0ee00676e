"""The work-zone feeds for navigation apps: WZDx 4.2 (valid against the published schemas)
and the Waze closure feed (CIFS, JSON and XML); cacheable, and changed the moment a
restriction is added, changed or lifted."""

import json
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import time_machine
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from shapely.geometry import LineString, MultiLineString, Point

from tests.conftest import MIYAJI_STATION
from tracker.core import clock
from tracker.feeds.publishing import CC0
from tracker.restrictions.operations import add_restriction, change_restriction, end_restriction

SCHEMAS = Path(__file__).parent / "standards" / "wzdx-4.2"
LON, LAT = MIYAJI_STATION
SECTION = LineString([(LON, LAT), (LON + 0.002, LAT + 0.0005)])
DETOUR = LineString([(LON, LAT), (LON, LAT + 0.001), (LON + 0.002, LAT + 0.0005)])
# The GeoJSON geometries WZDx refers to, stated from RFC 7946 (see tests/standards/README.md).
POSITION = {"type": "array", "minItems": 2, "items": {"type": "number"}}
GEOJSON = {
    "https://geojson.org/schema/LineString.json": {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"enum": ["LineString"]},
            "coordinates": {"type": "array", "minItems": 2, "items": POSITION},
        },
    },
    "https://geojson.org/schema/MultiPoint.json": {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"enum": ["MultiPoint"]},
            "coordinates": {"type": "array", "items": POSITION},
        },
    },
}


def wzdx_validator() -> Draft7Validator:
    """The WorkZoneFeed schema, its references resolved from the local copies."""
    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    resources = [(s["$id"], Resource.from_contents(s)) for s in schemas.values()]
    resources += [
        (uri, Resource.from_contents({"$schema": "http://json-schema.org/draft-07/schema#"} | s))
        for uri, s in GEOJSON.items()
    ]
    return Draft7Validator(
        schemas["WorkZoneFeed.json"],
        registry=Registry().with_resources(resources),
        format_checker=FormatChecker(),
    )


def assert_valid_wzdx(feed: dict) -> None:
    errors = sorted(wzdx_validator().iter_errors(feed), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


@pytest.fixture
def road(make_project):
    return make_project(name="市道宮地駅前線 道路改良工事", kind="road")


@pytest.fixture
def closure(session, road):
    return add_restriction(
        session,
        road,
        kind="closed",
        starts_on=clock.today() - timedelta(days=2),
        ends_on=clock.today() + timedelta(days=20),
        days="weekdays",
        time_from="8:30",
        time_until="17:00",
        description="平日昼間は通行止め",
        reason="舗装工事のため",
        contact="阿蘇市 建設課",
        section=SECTION,
        detour=DETOUR,
    )


def wzdx(client) -> dict:
    answer = client.get("/feeds/wzdx.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/geo+json"
    return answer.get_json()


def waze(client) -> dict:
    answer = client.get("/feeds/waze.json")
    assert answer.status_code == 200
    return answer.get_json()


def waze_xml_ids(client) -> list[str]:
    answer = client.get("/feeds/waze.xml")
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    return [e.get("id") for e in ET.fromstring(answer.data).findall("incident")]


def by_id(feed: dict) -> dict:
    return {f["id"]: f for f in feed["features"]}


def test_wzdx_feed_is_valid_with_work_zones_detours_and_the_city(
    client, session, make_project, road, closure
):
    add_restriction(
        session, road, kind="heavy_vehicles", starts_on=clock.today() + timedelta(days=5),
        description="大型車は通れません", days="every_day",
    )  # fmt: skip
    bridge = make_project(name="宮地の橋 補修", geometry=Point(LON + 0.01, LAT))
    add_restriction(
        session, bridge, kind="alternating", starts_on=clock.today(), days="weekends",
        time_from="20:00", time_until="6:00", description="夜間は片側交互通行",
    )  # fmt: skip
    split = make_project(name="県道阿蘇公園下野線 法面工事", kind="road")
    add_restriction(
        session, split, kind="lane", starts_on=clock.today(), ends_on=clock.today(),
        description="車線規制", days="every_day",
        section=MultiLineString([[(LON, LAT), (LON + 0.001, LAT)], [(LON, LAT + 0.01), (LON + 0.001, LAT + 0.01)]]),
    )  # fmt: skip

    feed = wzdx(client)

    assert_valid_wzdx(feed)
    info = feed["feed_info"]
    assert info["publisher"] == "阿蘇市" and info["version"] == "4.2"
    assert info["data_sources"][0]["organization_name"] == "阿蘇市"
    # CC BY 4.0 by default, which WZDx's licence field cannot hold: named by the Link header.
    assert "license" not in info
    events = by_id(feed)
    zone = events[f"aso-restriction-{closure.id}"]["properties"]
    assert zone["core_details"]["event_type"] == "work-zone"
    assert zone["core_details"]["road_names"] == ["市道宮地駅前線"]
    assert zone["vehicle_impact"] == "all-lanes-closed"
    start = clock.today() - timedelta(days=2)
    assert zone["start_date"] == f"{start.isoformat()}T08:30:00+09:00"
    end = clock.today() + timedelta(days=20)
    assert zone["end_date"] == f"{end.isoformat()}T17:00:00+09:00"
    assert zone["is_end_date_verified"] is True
    # The days and hours, reason and contact, in words.
    assert "平日 8:30〜17:00" in zone["core_details"]["description"]
    assert "舗装工事のため" in zone["core_details"]["description"]
    detour_id = f"aso-restriction-{closure.id}-detour"
    assert zone["core_details"]["related_road_events"] == [
        {"type": "related-detour", "id": detour_id}
    ]
    detour = events[detour_id]
    assert detour["properties"]["core_details"]["event_type"] == "detour"
    assert detour["properties"]["core_details"]["related_road_events"] == [
        {"type": "related-work-zone", "id": f"aso-restriction-{closure.id}"}
    ]
    assert detour["geometry"]["coordinates"] == [
        [round(x, 6), round(y, 6)] for x, y in DETOUR.coords
    ]
    kinds = {
        e["properties"]["core_details"]["name"]: e["properties"].get("vehicle_impact")
        for e in feed["features"]
        if e["properties"]["core_details"]["event_type"] == "work-zone"
    }
    assert kinds["宮地の橋 補修"] == "alternating-one-way"
    heavy = [e for e in feed["features"] if e["properties"].get("restrictions")]
    assert heavy[0]["properties"]["restrictions"] == [{"type": "no-trucks"}]
    # Until further notice: an estimated end, said so.
    assert heavy[0]["properties"]["is_end_date_verified"] is False
    # A work known by a point: its place as beginning and end, not verified.
    night = next(
        e for e in feed["features"] if e["properties"]["core_details"]["name"] == "宮地の橋 補修"
    )
    assert night["geometry"] == {
        "type": "MultiPoint",
        "coordinates": [[round(LON + 0.01, 6), LAT]] * 2,
    }
    assert night["properties"]["is_start_position_verified"] is False
    # 20:00 to 6:00: the last night ends the next morning.
    assert night["properties"]["end_date"].endswith("T06:00:00+09:00")
    # Two separate lines: two events with their own ids.
    names = [e["properties"]["core_details"]["name"] for e in feed["features"]]
    assert names.count("県道阿蘇公園下野線 法面工事") == 2


def test_wzdx_feed_names_cc0_when_the_city_chooses_it(app, client, closure):
    app.config["DATA_LICENSE_URL"] = CC0
    answer = client.get("/feeds/wzdx.json")
    assert answer.get_json()["feed_info"]["license"] == CC0
    assert answer.headers["Link"] == f'<{CC0}>; rel="license"'
    assert_valid_wzdx(answer.get_json())


def test_feeds_leave_out_lifted_past_and_staff_only_restrictions(
    client, session, make_project, road, closure
):
    lifted = add_restriction(
        session, road, kind="closed", starts_on=clock.today(), description="解除済み",
        section=SECTION,
    )  # fmt: skip
    end_restriction(session, lifted)
    add_restriction(
        session, road, kind="closed", starts_on=clock.today() - timedelta(days=9),
        ends_on=clock.today() - timedelta(days=1), description="終了済み", section=SECTION,
    )  # fmt: skip
    hidden = make_project(name="職員のみの道路", kind="road", is_public=False)
    add_restriction(
        session, hidden, kind="closed", starts_on=clock.today(), description="非公開",
        section=SECTION,
    )  # fmt: skip

    assert set(by_id(wzdx(client))) == {
        f"aso-restriction-{closure.id}",
        f"aso-restriction-{closure.id}-detour",
    }
    assert [i["incident"]["id"] for i in waze(client)["incidents"]] == [
        f"aso-restriction-{closure.id}"
    ]


def test_waze_feed_has_the_full_closures_in_cifs(client, session, road, closure):
    add_restriction(
        session, road, kind="alternating", starts_on=clock.today(), description="片側交互通行",
        section=SECTION,
    )  # fmt: skip

    incidents = waze(client)["incidents"]

    assert len(incidents) == 1
    incident = incidents[0]["incident"]
    assert incident["id"] == f"aso-restriction-{closure.id}"
    assert incident["type"] == "ROAD_CLOSED"
    assert incident["direction"] == "BOTH_DIRECTIONS"
    assert incident["street"] == "市道宮地駅前線"
    # Latitude first, as CIFS wants it.
    (lon0, lat0), (lon1, lat1) = SECTION.coords
    assert incident["polyline"] == f"{lat0:.6f} {lon0:.6f} {lat1:.6f} {lon1:.6f}"
    assert incident["starttime"].endswith("T08:30:00+09:00")
    assert incident["endtime"].endswith("T17:00:00+09:00")
    assert incident["schedule"] == {
        day: "08:30-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    }
    assert incident["source"]["reference"] == str(closure.id)
    assert incident["source"]["url"].endswith(f"/projects/{road.id}")
    assert "平日昼間は通行止め" in incident["description"]

    root = ET.fromstring(client.get("/feeds/waze.xml").data)
    element = root.find("incident")
    assert element.get("id") == incident["id"]
    assert element.findtext("polyline") == incident["polyline"]
    assert element.findtext("schedule/monday") == "08:30-17:00"
    assert element.findtext("source/name") == "阿蘇市"


FEEDS = ("/feeds/wzdx.json", "/feeds/waze.json", "/feeds/waze.xml")


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_are_cacheable_and_answer_304_while_current(client, closure, path):
    first = client.get(path)
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"

    again = client.get(path, headers={"If-None-Match": tag})

    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == tag


def test_a_restriction_added_changed_and_lifted_shows_in_both_feeds_at_once(
    client, session, road, closure
):
    tags = {path: client.get(path).headers["ETag"] for path in FEEDS}

    def changed() -> None:
        for path, tag in tags.items():
            answer = client.get(path, headers={"If-None-Match": tag})
            assert answer.status_code == 200, path
            tags[path] = answer.headers["ETag"]

    added = add_restriction(
        session, road, kind="closed", starts_on=clock.today() + timedelta(days=3),
        ends_on=clock.today() + timedelta(days=4), description="新しい通行止め", section=SECTION,
    )  # fmt: skip
    changed()
    new_id = f"aso-restriction-{added.id}"
    assert new_id in by_id(wzdx(client))
    assert new_id in waze_xml_ids(client)

    change_restriction(
        session, added, {"description": "日程を変えた通行止め"},
        expected_version=added.version, user=None,
    )  # fmt: skip
    changed()
    assert (
        "日程を変えた通行止め"
        in by_id(wzdx(client))[new_id]["properties"]["core_details"]["description"]
    )
    incident = next(
        i["incident"] for i in waze(client)["incidents"] if i["incident"]["id"] == new_id
    )
    assert "日程を変えた通行止め" in incident["description"]

    end_restriction(session, added)
    changed()
    assert new_id not in by_id(wzdx(client))
    assert new_id not in waze_xml_ids(client)


def test_a_restriction_past_its_last_day_leaves_the_feeds_the_next_day(client, closure):
    tag = client.get("/feeds/wzdx.json").headers["ETag"]
    with time_machine.travel(clock.now() + timedelta(days=22), tick=False):
        answer = client.get("/feeds/wzdx.json", headers={"If-None-Match": tag})
        assert answer.status_code == 200
        assert answer.get_json()["features"] == []
        assert waze(client)["incidents"] == []
