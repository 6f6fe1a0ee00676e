"""OGC API – Features and Tiles under /ogc, read on the real PostGIS test database."""

import json
import math
import subprocess
from datetime import date, timedelta

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text

from tests.conftest import MIYAJI_STATION, UCHINOMAKI_STATION
from tracker.core import clock
from tracker.restrictions.operations import add_restriction

EPSG6670 = "http://www.opengis.net/def/crs/EPSG/0/6670"
EPSG6668 = "http://www.opengis.net/def/crs/EPSG/0/6668"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SHELTERS = 38  # the GSI designated shelters (facilities) every test database holds
EXTRA = 23  # more works than two pages of ten


def items(client, path="projects", headers=None, **args):
    response = client.get(f"/ogc/collections/{path}/items", query_string=args, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json(), response


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return (x, y) of the WebMercatorQuad tile holding the point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def lonlat_of(x: float, y: float, z: int) -> tuple[float, float]:
    """Return the longitude and latitude of a (fractional) tile position."""
    n = 2**z
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return x / n * 360 - 180, lat


def tile_features(data: bytes, z: int, x: int, y: int, tmp_path) -> list[dict]:
    """Read a vector tile with GDAL's MVT driver; return its GeoJSON features."""
    if not data:
        return []
    path = tmp_path / f"{z}-{x}-{y}.mvt"
    path.write_bytes(data)
    out = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "/vsistdout/", str(path),
         "-oo", f"Z={z}", "-oo", f"X={x}", "-oo", f"Y={y}"],
        capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out)["features"]


def decode_tile(data: bytes, z: int, x: int, y: int, tmp_path) -> list[dict]:
    """Read a vector tile; return its features' properties."""
    return [f["properties"] for f in tile_features(data, z, x, y, tmp_path)]


def get_tile(client, z, x, y, collection="projects", **kwargs):
    return client.get(f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}", **kwargs)


@pytest.fixture
def works(make_project):
    """A public bridge, a public road and a staff-only sabo work near Miyaji."""
    lon, lat = MIYAJI_STATION
    return {
        "bridge": make_project(name="宮地橋 補修", status="construction", progress=30),
        "road": make_project(
            name="市道 改良", kind="road", status="completed", progress=100,
            planned_end=date(2022, 12, 31), actual_start=date(2022, 5, 1),
            actual_end=date(2023, 2, 1),
            geometry=LineString([(lon + 0.01, lat), (lon + 0.02, lat + 0.005)]),
        ),
        "hidden": make_project(
            name="内部検討", kind="sabo", is_public=False, geometry=Point(lon + 0.002, lat)
        ),
    }  # fmt: skip


def test_landing_conformance_and_api_description(client):
    landing = client.get("/ogc/").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    for cls in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{cls}" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance
    api = client.get("/ogc/api")
    assert api.mimetype == "application/vnd.oai.openapi+json"
    document = api.get_json()
    paths = document["paths"]
    assert "/collections/projects/items/{featureId}" in paths
    shared = document["components"]["parameters"]
    names = {
        (shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p)["name"]
        for p in paths["/collections/projects/items"]["get"]["parameters"]
    }
    assert {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "kind", "status"} <= names


def test_collections_list_the_layers_with_their_crs(client, works):
    found = client.get("/ogc/collections").get_json()["collections"]
    assert [c["id"] for c in found] == [
        "projects", "projects_points", "projects_lines", "projects_polygons", "restrictions",
        "shelters",
    ]  # fmt: skip
    projects = found[0]
    assert projects["title"] == "復旧・復興事業"
    assert {EPSG6670, EPSG6668, CRS84} <= set(projects["crs"])
    west, south, east, north = projects["extent"]["spatial"]["bbox"][0]
    assert 130.9 < west < east < 131.3 and 32.8 < south < north < 33.1
    assert "国土地理院" in found[-1]["attribution"]
    assert client.get("/ogc/collections/nothing").status_code == 404


def test_items_page_with_counts_and_next_prev_links(client, works, make_project):
    for n in range(EXTRA):
        make_project(name=f"橋 {n}")
    first, response = items(client, limit=10)
    assert response.mimetype == "application/geo+json"
    assert response.headers["Content-Crs"] == f"<{CRS84}>"
    assert first["numberMatched"] == EXTRA + 2
    assert first["numberReturned"] == len(first["features"]) == 10
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in links
    second = client.get(links["next"]).get_json()
    assert second["numberReturned"] == 10
    assert {link["rel"] for link in second["links"]} >= {"next", "prev"}
    first_ids = [f["id"] for f in first["features"]]
    second_ids = [f["id"] for f in second["features"]]
    assert first_ids == sorted(first_ids) and max(first_ids) < min(second_ids)
    everything, _ = items(client, limit=10_000)
    assert everything["numberReturned"] == EXTRA + 2
    assert "next" not in {link["rel"] for link in everything["links"]}
    assert items(client)[0]["numberReturned"] == EXTRA + 2  # under the default 100
    # More than the most served is answered with the most served.
    assert items(client, limit=50_000)[0]["numberReturned"] == EXTRA + 2


def test_staff_only_projects_need_a_token_whose_role_may_see_them(
    client, session, works, make_user
):
    from tracker.accounts.operations import create_token

    hidden = works["hidden"].id
    anonymous, _ = items(client, limit=1000)
    assert hidden not in [f["id"] for f in anonymous["features"]]
    assert anonymous["numberMatched"] == 2
    assert client.get(f"/ogc/collections/projects/items/{hidden}").status_code == 404
    token = create_token(session, make_user(role="viewer"))
    headers = {"Authorization": f"Bearer {token}"}
    seen, response = items(client, limit=1000, headers=headers)
    assert hidden in [f["id"] for f in seen["features"]]
    assert seen["numberMatched"] == 3
    assert response.headers["Cache-Control"] == "no-store"  # a signed-in answer: kept by no cache
    one = client.get(f"/ogc/collections/projects/items/{hidden}", headers=headers)
    assert one.status_code == 200 and one.get_json()["properties"]["public"] is False
    # public=true: what residents see, whoever asks.
    assert items(client, limit=1000, headers=headers, public="true")[0]["numberMatched"] == 2
    bad = client.get("/ogc/collections/projects/items", headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401  # an unknown token is refused, never taken as anonymous


def test_kind_status_bbox_and_datetime_filters(client, works):
    assert [f["id"] for f in items(client, kind="road")[0]["features"]] == [works["road"].id]
    found = items(client, status="construction,completed", kind="bridge,road")[0]
    assert {f["id"] for f in found["features"]} == {works["bridge"].id, works["road"].id}
    lon, lat = MIYAJI_STATION
    box = items(client, bbox=f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}")[0]
    assert [f["id"] for f in box["features"]] == [works["bridge"].id]
    # The road's actual period (2022-05 to 2023-02) and the bridge's planned one overlap 2022.
    in_2022 = items(client, datetime="2022-06-01/2022-12-31")[0]
    assert {f["id"] for f in in_2022["features"]} == {works["bridge"].id, works["road"].id}
    late = items(client, datetime="2023-03-01/..", kind="road,bridge")[0]
    assert [f["id"] for f in late["features"]] == [works["bridge"].id]
    assert items(client, datetime="2030-01-01T00:00:00Z")[0]["numberMatched"] == 0
    for bad in (
        {"kind": "castle"},
        {"bbox": "1,2,3"},
        {"bbox": "131.2,33,131.1,32.9"},
        {"datetime": "2024-13-01"},
        {"datetime": "2024-05-01/2024-04-01"},
        {"limit": "0"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"crs": "EPSG:4612"},
        {"colour": "red"},
    ):
        response = client.get("/ogc/collections/projects/items", query_string=bad)
        assert response.status_code == 400, bad
        assert response.get_json()["description"], bad


def test_plane_rectangular_and_jgd2011_coordinates_match_postgis(client, session, works):
    road = works["road"]
    expected = session.execute(
        text(
            "SELECT ST_AsGeoJSON(ST_Transform(geom, 6670), 4)::json,"
            " ST_AsGeoJSON(ST_Transform(geom, 6668), 9)::json FROM projects WHERE id = :id"
        ),
        {"id": road.id},
    ).one()
    feature = client.get(f"/ogc/collections/projects/items/{road.id}?crs={EPSG6670}")
    assert feature.headers["Content-Crs"] == f"<{EPSG6670}>"
    # EPSG:6670 is northing (X) first, then easting (Y).
    for got, (easting, northing) in zip(
        feature.get_json()["geometry"]["coordinates"], expected[0]["coordinates"], strict=True
    ):
        assert got == pytest.approx([northing, easting], abs=0.01)
    latlon = client.get(f"/ogc/collections/projects/items/{road.id}?crs=EPSG:6668").get_json()
    lon, lat = expected[1]["coordinates"][0]
    assert latlon["geometry"]["coordinates"][0] == pytest.approx([lat, lon], abs=1e-7)


def test_bbox_in_plane_rectangular_coordinates(client, session, works):
    x, y = session.execute(
        text(
            "SELECT ST_Y(ST_Transform(geom, 6670)), ST_X(ST_Transform(geom, 6670))"
            " FROM projects WHERE id = :id"
        ),
        {"id": works["bridge"].id},
    ).one()
    found = items(client, **{"bbox": f"{x - 50},{y - 50},{x + 50},{y + 50}", "bbox-crs": EPSG6670})
    assert [f["id"] for f in found[0]["features"]] == [works["bridge"].id]


def test_html_by_accept_and_f(client, works):
    page = client.get("/ogc/collections/projects/items", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and "宮地橋 補修" in page.get_data(as_text=True)
    assert client.get("/ogc/collections?f=html").mimetype == "text/html"
    one = client.get(f"/ogc/collections/projects/items/{works['bridge'].id}?f=html")
    assert one.mimetype == "text/html" and "宮地橋 補修" in one.get_data(as_text=True)
    assert client.get("/ogc/collections", headers={"Accept": "*/*"}).mimetype == "application/json"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/ogc/", headers={"Accept": browser}).mimetype == "text/html"
    assert client.get("/ogc/collections?f=json", headers={"Accept": browser}).is_json


def test_items_answer_304_until_a_project_changes(client, session, works):
    _, first = items(client, kind="bridge")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept" in first.headers["Vary"]
    again = client.get(
        "/ogc/collections/projects/items?kind=bridge", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b""
    works["bridge"].name = "宮地橋 補修（第2期）"
    session.flush()
    changed = client.get(
        "/ogc/collections/projects/items?kind=bridge", headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_restrictions_and_shelters_collections(client, session, works):
    today = clock.today()
    add_restriction(session, works["road"], kind="closed", starts_on=today,
                    description="終日通行止め")  # fmt: skip
    add_restriction(session, works["hidden"], kind="alternating", starts_on=today,
                    description="職員のみの規制")  # fmt: skip
    add_restriction(session, works["bridge"], kind="lane", starts_on=today - timedelta(days=30),
                    ends_on=today - timedelta(days=1), description="終わった規制")  # fmt: skip
    found = items(client, "restrictions")[0]
    assert [f["properties"]["description"] for f in found["features"]] == ["終日通行止め"]
    assert found["features"][0]["properties"]["in_force"] is True
    assert found["features"][0]["geometry"]["type"] == "LineString"
    assert items(client, "restrictions", kind="detour")[0]["numberMatched"] == 0
    shelters = items(client, "shelters", limit=100)[0]
    assert shelters["numberMatched"] == SHELTERS
    assert all(f["properties"]["gsi_common_id"] for f in shelters["features"])
    assert all(f["properties"]["designations"] == "shelter" for f in shelters["features"])


def test_a_restriction_is_served_on_its_own_line_with_its_hours(client, session, works, tmp_path):
    lon, lat = MIYAJI_STATION
    section = LineString([(lon, lat), (lon + 0.002, lat + 0.0005)])
    add_restriction(session, works["bridge"], kind="alternating", starts_on=clock.today(),
                    days="weekdays", time_from="08:30", time_until="17:00",
                    description="片側交互通行", section=section,
                    detour=LineString([(lon, lat), (lon, lat + 0.002)]))  # fmt: skip
    found = items(client, "restrictions")[0]["features"]
    assert len(found) == 1
    feature = found[0]
    # The restriction's own section, not its work's point.
    assert feature["geometry"]["type"] == "LineString"
    assert feature["geometry"]["coordinates"][0] == pytest.approx([lon, lat])
    props = feature["properties"]
    assert (props["kind"], props["days"], props["time_from"], props["time_until"]) == (
        "alternating",
        "weekdays",
        "08:30",
        "17:00",
    )
    assert props["section_drawn"] is True and props["has_detour"] is True
    x, y = tile_of(lon, lat, 16)
    tile = decode_tile(get_tile(client, 16, x, y, "restrictions").data, 16, x, y, tmp_path)
    assert [(t["kind"], t["time_from"], t["section_drawn"]) for t in tile] == [
        ("alternating", "08:30", True)
    ]


def test_tiles_carry_the_map_fields_and_never_a_staff_only_project(
    client, works, tmp_path, make_user, login_as
):
    lon, lat = MIYAJI_STATION
    x, y = tile_of(lon, lat, 16)
    response = get_tile(client, 16, x, y)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    features = decode_tile(response.data, 16, x, y, tmp_path)
    assert {f["id"] for f in features} == {works["bridge"].id}
    bridge = features[0]
    assert (bridge["name"], bridge["kind"], bridge["status"], bridge["progress"]) == (
        "宮地橋 補修", "bridge", "construction", 30,
    )  # fmt: skip
    # Every zoom level of the city: the hidden work is in no anonymous tile.
    for z in range(8, 17):
        x, y = tile_of(lon, lat, z)
        found = decode_tile(get_tile(client, z, x, y).data, z, x, y, tmp_path)
        assert works["hidden"].id not in {f.get("id") for f in found}, z
        assert "sabo" not in {f["kind"] for f in found}, z
    login_as(make_user(role="viewer"))
    x, y = tile_of(lon, lat, 16)
    staff = decode_tile(get_tile(client, 16, x, y).data, 16, x, y, tmp_path)
    assert works["hidden"].id in {f["id"] for f in staff}
    public_only = get_tile(client, 16, x, y, query_string={"public": "true"})
    assert works["hidden"].id not in {
        f["id"] for f in decode_tile(public_only.data, 16, x, y, tmp_path)
    }


def test_small_works_of_a_kind_are_counted_in_one_point_when_zoomed_out(
    client, make_project, tmp_path
):
    z = 11
    x, y = tile_of(*UCHINOMAKI_STATION, z)
    # Around the middle of one of the tile's cells (a quarter of it wide): one cluster.
    lon, lat = lonlat_of(x + 0.375, y + 0.375, z)
    for i in range(5):
        make_project(name=f"橋 {i}", geometry=Point(lon + i * 0.0005, lat))
    features = decode_tile(get_tile(client, z, x, y).data, z, x, y, tmp_path)
    clusters = [f for f in features if f.get("count")]
    assert [(c["kind"], c["count"]) for c in clusters if c["kind"] == "bridge"] == [("bridge", 5)]
    x, y = tile_of(lon, lat, 17)
    near = decode_tile(get_tile(client, 17, x, y).data, 17, x, y, tmp_path)
    assert not [f for f in near if f.get("count")] and len(near) >= 2


def decode_points(data: bytes, z: int, x: int, y: int, tmp_path) -> list[tuple[dict, tuple]]:
    """Read a vector tile's point features: (properties, (lon, lat))."""
    return [
        (f["properties"], tuple(f["geometry"]["coordinates"]))
        for f in tile_features(data, z, x, y, tmp_path)
        if f["geometry"]["type"] == "Point"
    ]


def test_small_works_of_several_kinds_in_one_cell_are_one_group_at_its_centre(
    client, make_project, tmp_path
):
    z = 11
    x, y = tile_of(*UCHINOMAKI_STATION, z)
    # Two bridges and a sabo dam in one cell; one bridge alone in the next cell across.
    lon, lat = lonlat_of(x + 0.30, y + 0.30, z)
    for i, kind in enumerate(["bridge", "bridge", "sabo"]):
        make_project(name=f"混在 {i}", kind=kind, geometry=Point(lon + i * 0.002, lat))
    alone = make_project(name="ひとつ", geometry=Point(*lonlat_of(x + 0.60, y + 0.30, z)))
    points = decode_points(get_tile(client, z, x, y).data, z, x, y, tmp_path)
    mixed = [(props, at) for props, at in points if props.get("kinds") == "bridge:2,sabo:1"]
    assert len(mixed) == 1
    props, at = mixed[0]
    assert props["count"] == 3 and props.get("kind") is None
    centre = lonlat_of(x + 0.375, y + 0.375, z)  # the middle of the tile's second cell
    assert at == pytest.approx(centre, abs=1e-4)
    lone = [(p, at) for p, at in points if p.get("id") == alone.id]
    assert lone and lone[0][1] == pytest.approx(lonlat_of(x + 0.625, y + 0.375, z), abs=1e-4)


def test_tiles_follow_the_meeting_filters_and_answer_304(client, make_project, tmp_path):
    make_project(name="対象", plan_item_codes=["p1.m2.i1"])
    make_project(name="対象外", plan_item_codes=["p1.m2.i2"], geometry=Point(131.1190, 32.9372))
    lon, lat = MIYAJI_STATION
    x, y = tile_of(lon, lat, 17)
    filtered = get_tile(client, 17, x, y, query_string={"plan_item": "p1.m2.i1"})
    assert [f["name"] for f in decode_tile(filtered.data, 17, x, y, tmp_path)] == ["対象"]
    assert get_tile(client, 17, x, y, query_string={"plan_item": "nope"}).status_code == 400
    etag = filtered.headers["ETag"]
    again = get_tile(client, 17, x, y, query_string={"plan_item": "p1.m2.i1"},
                     headers={"If-None-Match": etag})  # fmt: skip
    assert again.status_code == 304
    assert get_tile(client, 3, 9, 9).status_code == 400  # outside zoom 3's 8 x 8 tiles


def test_tileset_metadata_and_tilejson(client, works):
    tileset = client.get("/ogc/collections/projects/tiles/WebMercatorQuad").get_json()
    assert tileset["dataType"] == "vector"
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert template.endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    listed = client.get("/ogc/collections/projects/tiles").get_json()["tilesets"]
    assert listed[0]["tileMatrixSetURI"].endswith("/WebMercatorQuad")
    tilejson = client.get(
        "/ogc/collections/projects/tiles/WebMercatorQuad/tilejson.json?status=completed"
    ).get_json()
    assert tilejson["tilejson"] == "3.0.0"
    assert tilejson["tiles"][0].endswith("/WebMercatorQuad/{z}/{y}/{x}?status=completed")
    fields = tilejson["vector_layers"][0]["fields"]
    assert {"id", "kind", "status", "progress", "name"} <= set(fields)
