"""GIS layers that type themselves: per-type works, the features' schema, the QGIS style."""

import xml.etree.ElementTree as ET

from shapely.geometry import LineString, Point, Polygon

from tests.conftest import MIYAJI_STATION
from tracker.words.vocab import STATUSES

STYLED = ("projects_points", "projects_lines", "projects_polygons")


def lines_then_a_point_and_a_polygon(make_project):
    lon, lat = MIYAJI_STATION
    lines = [
        make_project(name=f"市道 {n}", kind="road",
                     geometry=LineString([(lon + n / 1000, lat), (lon + n / 1000, lat + 0.001)]))
        for n in range(12)
    ]  # fmt: skip
    point = make_project(name="宮地橋", geometry=Point(lon, lat - 0.01))
    area = make_project(
        name="避難所 敷地", kind="shelter",
        geometry=Polygon([(lon, lat), (lon + 0.001, lat), (lon, lat + 0.001), (lon, lat)]),
    )  # fmt: skip
    return lines, point, area


def test_the_first_page_of_a_mixed_layer_shows_each_geometry_type(client, make_project):
    lines, point, area = lines_then_a_point_and_a_polygon(make_project)
    first = client.get("/ogc/collections/projects/items?limit=5").get_json()
    ids = [f["id"] for f in first["features"]]
    # One of each type, by id, then the rest by id: paging stays whole and stable.
    assert ids == [lines[0].id, point.id, area.id, lines[1].id, lines[2].id]
    rest = client.get("/ogc/collections/projects/items?limit=100&offset=5").get_json()
    assert [f["id"] for f in rest["features"]] == [line.id for line in lines[3:]]


def test_per_type_layers_hold_multi_geometries_of_one_type(client, make_project):
    lines, point, area = lines_then_a_point_and_a_polygon(make_project)
    points = client.get("/ogc/collections/projects_points/items").get_json()["features"]
    assert [(f["id"], f["geometry"]["type"]) for f in points] == [(point.id, "MultiPoint")]
    polygons = client.get("/ogc/collections/projects_polygons/items").get_json()["features"]
    assert [f["id"] for f in polygons] == [area.id]
    roads = client.get("/ogc/collections/projects_lines/items?filter=name LIKE '市道 1%'")
    assert {f["properties"]["name"] for f in roads.get_json()["features"]} == {
        "市道 1", "市道 10", "市道 11"
    }  # fmt: skip


def test_lists_are_comma_separated_text_for_gis_tables(client, make_project):
    make_project(name="宮地橋")
    shelter = client.get("/ogc/collections/shelters/items?limit=1").get_json()["features"][0]
    assert shelter["properties"]["designations"] == "shelter"
    work = client.get("/ogc/collections/projects/items").get_json()["features"][0]
    assert work["properties"]["plan_items"] is None  # none linked: no empty text


def test_the_features_schema_types_every_property(client):
    for cid in ("projects", "projects_points", "restrictions", "shelters"):
        links = client.get(f"/ogc/collections/{cid}").get_json()["links"]
        schema_link = next(link for link in links if link["rel"] == "describedBy")
        assert schema_link["type"] == "application/schema+json"
        schema = client.get(schema_link["href"]).get_json()
        properties = schema["properties"]["properties"]["properties"]
        assert "id" not in properties  # GDAL takes it from the features
        sample = client.get(f"/ogc/collections/{cid}/items?limit=1").get_json()["features"]
        if sample:
            assert set(sample[0]["properties"]) - {"id"} == set(properties), cid
    projects = client.get("/ogc/collections/projects/schema").get_json()
    properties = projects["properties"]["properties"]["properties"]
    assert properties["planned_start"] == {"title": "予定開始日", "type": "string",
                                           "format": "date"}  # fmt: skip
    assert properties["planned_cost"]["type"] == "number"  # yen beyond 32-bit integers
    assert properties["plan_items"] == {"type": "string"}


def test_a_qgis_style_per_geometry_type_is_served_and_linked(client):
    for cid in STYLED:
        links = client.get(f"/ogc/collections/{cid}").get_json()["links"]
        styles = [link for link in links if link["rel"] == "stylesheet"]
        assert [link["type"] for link in styles] == ["application/vnd.qgis.qml"]
        response = client.get(styles[0]["href"])
        assert response.status_code == 200 and response.mimetype == "application/vnd.qgis.qml"
        document = ET.fromstring(response.data)
        renderer = document.find("renderer-v2")
        assert renderer is not None and renderer.get("attr") == "status"
        values = [c.get("value") for c in renderer.iter("category")]
        assert values == list(STATUSES)
    links = client.get("/ogc/collections/projects").get_json()["links"]
    assert len([link for link in links if link["rel"] == "stylesheet"]) == 3
    assert client.get("/ogc/collections/shelters/style.qml").status_code == 404


def test_tilejson_fields_say_their_types(client):
    tilejson = client.get("/ogc/collections/projects/tiles/WebMercatorQuad/tilejson.json")
    fields = tilejson.get_json()["vector_layers"][0]["fields"]
    assert fields == {"id": "Number", "name": "String", "kind": "String", "status": "String",
                      "progress": "Number", "count": "Number"}  # fmt: skip


def test_per_type_layers_take_the_meeting_filters_too(client, make_project):
    lines_then_a_point_and_a_polygon(make_project)
    found = client.get("/ogc/collections/projects_lines/items?q=市道 1&department=建設課")
    assert found.status_code == 200
    assert {f["properties"]["name"] for f in found.get_json()["features"]} == {
        "市道 1", "市道 10", "市道 11"
    }  # fmt: skip
