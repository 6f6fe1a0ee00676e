"""The projects API: GeoJSON, filters and errors."""

import gzip
import json

import pytest
from shapely.geometry import LineString, Point


@pytest.fixture
def three_projects(make_project):
    return {
        "bridge": make_project(
            name="宮地橋 補修",
            kind="bridge",
            status="completed",
            progress=100,
            indicator_codes=["m13_bridges_repaired"],
            plan_item_codes=["p1.m2.i1", "p5.m13.s1"],
        ),
        "road": make_project(
            name="市道 改良",
            kind="road",
            status="construction",
            progress=40,
            geometry=LineString([(131.04, 32.94), (131.05, 32.945)]),
        ),
        "private": make_project(
            name="内部検討", kind="sabo", is_public=False, geometry=Point(131.06, 32.97)
        ),
    }


def _ids(response):
    return {f["id"] for f in response.get_json()["features"]}


def test_list_is_a_feature_collection_of_public_projects(client, three_projects):
    response = client.get("/api/projects")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    ids = _ids(response)
    assert three_projects["bridge"].id in ids and three_projects["road"].id in ids
    assert three_projects["private"].id not in ids
    feature = next(f for f in body["features"] if f["id"] == three_projects["bridge"].id)
    props = feature["properties"]
    assert set(props) >= {
        "id",
        "name",
        "kind",
        "status",
        "progress",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "department",
        "plan_items",
        "indicators",
        "public",
    }
    assert props["planned_start"] == "2022-04-01" and props["actual_end"] is None
    assert props["plan_items"] == ["p1.m2.i1", "p5.m13.s1"]
    assert props["indicators"] == ["m13_bridges_repaired"]
    # RFC 7946: longitude first.
    assert feature["geometry"]["coordinates"] == [131.11879, 32.937]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=road", {"road"}),
        ("kind=road,bridge", {"road", "bridge"}),
        ("status=completed", {"bridge"}),
        ("kind=bridge&status=construction", set()),
        ("bbox=131.03,32.93,131.06,32.95", {"road"}),
    ],
)
def test_filters(client, three_projects, query, expected):
    ids = _ids(client.get(f"/api/projects?{query}"))
    mine = {name for name, p in three_projects.items() if p.id in ids}
    assert mine == expected


def test_one_project_and_unknown_ids(client, three_projects):
    bridge = three_projects["bridge"]
    response = client.get(f"/api/projects/{bridge.id}")
    assert response.status_code == 200
    assert response.get_json()["properties"]["name"] == "宮地橋 補修"
    missing = client.get("/api/projects/999999")
    assert missing.status_code == 404
    assert "999999" in missing.get_json()["error"]
    hidden = client.get(f"/api/projects/{three_projects['private'].id}")
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    "query, word",
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=131.2,32.9,131.1,33.0", "bbox"),
        ("kind=castle", "kind"),
        ("status=done", "status"),
    ],
)
def test_malformed_filters_get_400_saying_what_is_wrong(client, query, word):
    response = client.get(f"/api/projects?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(word)


def test_large_answers_are_gzipped_for_clients_that_accept_it(client, make_project):
    for n in range(30):
        make_project(name=f"事業{n}")
    response = client.get("/api/projects", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["type"] == "FeatureCollection"
