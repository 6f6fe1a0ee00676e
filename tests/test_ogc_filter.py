"""OGC API – Features Part 3 under /ogc: queryables, CQL2 filters and plain queryable parameters."""

import json
from datetime import date, timedelta

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text

from tests.conftest import MIYAJI_STATION
from tracker.core import clock
from tracker.restrictions.operations import add_restriction

PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
COLLECTIONS = ("projects", "restrictions", "shelters")
# ANDs within ORs within ANDs..., 60 deep.
NESTED = "kind = 'road'"
for depth in range(60):
    NESTED = f"(progress = {depth} {'AND' if depth % 2 else 'OR'} {NESTED})"


@pytest.fixture
def works(make_project):
    """A public bridge under construction, a completed public road and a staff-only sabo work."""
    lon, lat = MIYAJI_STATION
    return {
        "bridge": make_project(
            name="宮地橋 補修", status="construction", progress=30,
            planned_start=date(2027, 4, 1), planned_end=date(2028, 3, 31),
        ),
        "road": make_project(
            name="市道 改良", kind="road", status="completed", progress=100,
            planned_start=date(2022, 4, 1), planned_end=date(2022, 12, 31),
            actual_start=date(2022, 5, 1), actual_end=date(2023, 2, 1),
            geometry=LineString([(lon + 0.01, lat), (lon + 0.02, lat + 0.005)]),
        ),
        "hidden": make_project(
            name="内部検討", kind="sabo", is_public=False, progress=30,
            planned_start=date(2027, 4, 1), planned_end=date(2028, 3, 31),
            geometry=Point(lon + 0.002, lat),
        ),
    }  # fmt: skip


def names(client, collection="projects", headers=None, **args):
    response = client.get(
        f"/ogc/collections/{collection}/items", query_string=args, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(f["properties"].get("name") or f["properties"].get("description")
                  for f in response.get_json()["features"])  # fmt: skip


def refusal(client, collection="projects", **args):
    response = client.get(f"/ogc/collections/{collection}/items", query_string=args)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    return response.get_json()


def test_conformance_declares_the_part_3_and_cql2_classes(client):
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    for name in ("queryables", "queryables-query-parameters", "filter", "features-filter"):
        assert PART3 + name in conformance
    for name in (
        "basic-cql2",
        "basic-spatial-functions",
        "basic-spatial-functions-plus",
        "spatial-functions",
        "advanced-comparison-operators",
        "cql2-text",
        "cql2-json",
    ):
        assert CQL2 + name in conformance  # fmt: skip


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_each_collection_links_its_queryables_as_json_schema(client, collection):
    links = client.get(f"/ogc/collections/{collection}").get_json()["links"]
    found = [link for link in links if link["rel"].endswith("/queryables")]
    assert [link["type"] for link in found] == ["application/schema+json"]
    response = client.get(f"/ogc/collections/{collection}/queryables")
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    schema = response.get_json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/ogc/collections/{collection}/queryables")
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"
    assert schema["properties"]["id"]["type"] == "integer"
    page = client.get(f"/ogc/collections/{collection}/queryables?f=html")
    assert page.mimetype == "text/html" and "geometry" in page.get_data(as_text=True)


def test_project_queryables_say_types_and_codes(client):
    properties = client.get("/ogc/collections/projects/queryables").get_json()["properties"]
    assert properties["kind"]["enum"][:2] == ["road", "bridge"]
    assert properties["planned_start"] == {"title": "予定開始日", "type": "string",
                                           "format": "date"}  # fmt: skip
    assert properties["public"]["type"] == "boolean"
    assert "description" not in properties  # only what the features carry


def test_cql2_text_filters_projects_on_kind_status_and_dates(client, works):
    assert names(client, filter="kind = 'road' AND status = 'completed'") == ["市道 改良"]
    assert names(client, filter="planned_start >= DATE('2027-01-01')") == ["宮地橋 補修"]
    assert names(client, filter="progress < 50 OR kind = 'road'") == ["宮地橋 補修", "市道 改良"]
    assert names(client, filter="NOT (kind = 'road')") == ["宮地橋 補修"]
    assert names(client, filter="name LIKE '市道%'") == ["市道 改良"]
    assert names(client, filter="progress BETWEEN 50 AND 100") == ["市道 改良"]
    assert names(client, filter="status IN ('planned', 'construction')") == ["宮地橋 補修"]
    assert names(client, filter="actual_end IS NULL") == ["宮地橋 補修"]
    # Two properties compared, and the explicit default language.
    assert names(client, **{"filter": "planned_end > planned_start AND progress = 100",
                            "filter-lang": "cql2-text"}) == ["市道 改良"]  # fmt: skip


def test_cql2_json_filters_projects(client, works):
    lon, lat = MIYAJI_STATION
    document = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "kind"}, "road"]},
        {"op": ">=", "args": [{"property": "planned_end"}, {"date": "2022-12-31"}]},
        {"op": "s_intersects", "args": [{"property": "geometry"},
                                        {"bbox": [lon + 0.005, lat - 0.01, lon + 0.03, lat + 0.01]}]},
    ]}  # fmt: skip
    args = {"filter": json.dumps(document), "filter-lang": "cql2-json"}
    assert names(client, **args) == ["市道 改良"]


def test_spatial_functions_on_the_geometry_in_each_filter_crs(client, works):
    lon, lat = MIYAJI_STATION
    near_bridge = (
        f"S_INTERSECTS(geometry, BBOX({lon - 0.001}, {lat - 0.001}, {lon + 0.006}, {lat + 0.002}))"
    )
    assert names(client, filter=near_bridge) == ["宮地橋 補修"]
    # EPSG:4326 reads latitude first.
    south, north, west, east = lat - 0.01, lat + 0.01, lon + 0.005, lon + 0.03
    flipped = f"S_INTERSECTS(geometry, POLYGON(({south} {west}, {north} {west}, {north} {east}, {south} {east}, {south} {west})))"
    assert names(client, **{"filter": flipped, "filter-crs": "EPSG:4326"}) == ["市道 改良"]
    assert names(client, filter=f"S_DISJOINT(geometry, POINT({lon} {lat}))") == ["市道 改良"]
    assert names(client, filter=f"S_CROSSES(geometry, LINESTRING({lon + 0.015} {lat - 0.01}, {lon + 0.015} {lat + 0.01}))") == ["市道 改良"]  # fmt: skip


def test_plane_rectangular_filter_crs_finds_the_same_works(client, session, works):
    x, y = session.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 6670) p"),
        {"lon": MIYAJI_STATION[0] + 0.015, "lat": MIYAJI_STATION[1]},
    ).one()  # fmt: skip
    # EPSG:6670 writes the northing (X) first; a 600 m box around the road's middle.
    around = f"BBOX({y - 300}, {x - 300}, {y + 300}, {x + 300})"
    args = {"filter": f"S_INTERSECTS(geometry, {around})",
            "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/6670"}  # fmt: skip
    assert names(client, **args) == ["市道 改良"]


def test_staff_only_works_stay_hidden_whatever_the_filter(client, session, works, make_user):
    from tracker.accounts.operations import create_token

    lon, lat = MIYAJI_STATION
    for condition in ("public = false", "kind = 'sabo'", "name = '内部検討'", "INCLUDE",
                      f"S_INTERSECTS(geometry, POINT({lon + 0.002} {lat}))",
                      "progress = 30 OR public = false OR public = true"):  # fmt: skip
        assert "内部検討" not in names(client, filter=condition), condition
    headers = {"Authorization": f"Bearer {create_token(session, make_user(role='viewer'))}"}
    assert names(client, headers=headers, filter="public = false") == ["内部検討"]


def test_queryables_as_plain_query_parameters(client, works):
    assert names(client, progress="100") == ["市道 改良"]
    assert names(client, planned_start="2027-04-01") == ["宮地橋 補修"]
    assert names(client, sample="false", kind="road,bridge") == ["宮地橋 補修", "市道 改良"]
    assert refusal(client, progress="half")["field"] == "progress"
    assert refusal(client, planned_start="April")["field"] == "planned_start"


def test_restrictions_and_shelters_take_text_and_json_filters(client, session, works):
    today = clock.today()
    add_restriction(session, works["road"], kind="closed", starts_on=today,
                    description="終日通行止め")  # fmt: skip
    add_restriction(session, works["bridge"], kind="alternating", starts_on=today + timedelta(days=7),
                    description="片側交互通行")  # fmt: skip
    add_restriction(session, works["hidden"], kind="closed", starts_on=today,
                    description="職員のみの規制")  # fmt: skip
    assert names(client, "restrictions", filter="kind = 'closed'") == ["終日通行止め"]
    assert names(client, "restrictions", filter="in_force = false") == ["片側交互通行"]
    on_road = {"op": "=", "args": [{"property": "project_id"}, works["road"].id]}
    args = {"filter": json.dumps(on_road), "filter-lang": "cql2-json"}
    assert names(client, "restrictions", **args) == ["終日通行止め"]
    shelter = session.execute(
        text("SELECT name, gsi_common_id FROM facilities WHERE withdrawn_at IS NULL LIMIT 1")
    ).one()
    by_text = f"gsi_common_id = '{shelter.gsi_common_id}'"
    assert names(client, "shelters", filter=by_text) == [shelter.name]
    by_json = {"op": "=", "args": [{"property": "gsi_common_id"}, shelter.gsi_common_id]}
    args = {"filter": json.dumps(by_json), "filter-lang": "cql2-json"}
    assert names(client, "shelters", **args) == [shelter.name]


def test_filters_reach_the_vector_tiles(client, works):
    from tests.test_ogc import get_tile, tile_of

    x, y = tile_of(*MIYAJI_STATION, 12)
    every = get_tile(client, 12, x, y)
    roads_only = get_tile(client, 12, x, y, query_string={"filter": "kind = 'road'"})
    assert every.status_code == roads_only.status_code == 200
    assert every.data != roads_only.data
    assert get_tile(client, 12, x, y, query_string={"filter": "kind ="}).status_code == 400


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"filter": "kind ="}, "CQL2 として読み取れません"),
        ({"filter": "colour = 'red'"}, "「colour」では絞り込めません"),
        ({"filter": "progress = 'half'"}, "progress には 整数"),
        ({"filter": "kind = 3"}, "kind には 文字列"),
        ({"filter": "planned_start > TIMESTAMP('2024-01-01T00:00:00Z')"}, "DATE('YYYY-MM-DD')"),
        ({"filter": "geometry = 'x'"}, "空間関数"),
        ({"filter": "S_INTERSECTS(kind, POINT(131 33))"}, "kind は図形ではありません"),
        ({"filter": "S_INTERSECTS(geometry, POINT(200 33))"}, "±180"),
        ({"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))"}, "図形が正しくありません"),
        ({"filter": "S_INTERSECTS(geometry, SRID=6670;POINT(1 2))"}, "filter-crs"),
        ({"filter": "progress + 1 = 2"}, "片方はプロパティ"),
        ({"filter": "kind = 'road'; DROP TABLE projects"}, "CQL2 として読み取れません"),
        ({"filter": NESTED}, "入れ子が深すぎます"),
        ({"filter": " AND ".join(["progress = 1"] * 2000)}, "長すぎます"),
        ({"filter": "{bad", "filter-lang": "cql2-json"}, "cql2-json として読み取れません"),
        ({"filter": '{"op": "=", "args": [{"property": "kind"}]}', "filter-lang": "cql2-json"}, "cql2-json"),
        ({"filter": '{"op": "=", "args": [{"property": "drop"}, 1]}', "filter-lang": "cql2-json"}, "「drop」では"),
        ({"filter": "kind = 'road'", "filter-lang": "sql"}, "cql2-text か cql2-json"),
        ({"filter": "kind = 'road'", "filter-crs": "EPSG:3857"}, "対応していない座標参照系"),
    ],
)  # fmt: skip
def test_a_malformed_filter_is_a_400_with_words(client, works, args, words):
    found = refusal(client, **args)
    assert found["code"] == "InvalidParameterValue"
    assert words in found["description"], found
    assert found["field"] in ("filter", "filter-lang", "filter-crs")


def test_long_chains_of_conditions_are_read(client, works):
    chain = " OR ".join(f"progress = {n}" for n in range(101))
    assert names(client, filter=chain) == ["宮地橋 補修", "市道 改良"]
    both = " AND ".join(["kind = 'road'"] * 1000)
    assert names(client, filter=both) == ["市道 改良"]


def test_a_malformed_filter_in_english(client, works):
    found = refusal(client, filter="colour = 'red'", lang="en")
    assert "colour" in found["description"] and "kind" in found["description"]
    assert all(ord(c) < 0x3000 for c in found["description"]), found


def test_the_api_description_offers_the_filter_to_clients(client):
    document = client.get("/ogc/api").get_json()
    parameters = document["components"]["parameters"]
    assert parameters["filter-lang"]["schema"]["enum"] == ["cql2-text", "cql2-json", "cql-text"]
    items = document["paths"]["/collections/projects/items"]["get"]["parameters"]
    refs = {p["$ref"].rsplit("/", 1)[1] for p in items if "$ref" in p}
    assert {"filter", "filter-lang", "filter-crs", "projects.kind", "projects.progress"} <= refs
    assert "/collections/shelters/queryables" in document["paths"]


@pytest.mark.parametrize(
    "query",
    [
        "id=72950493079074464",
        "filter=id%3D72950493079074464",
        "filter=id%3D7295049307907446400000000",
    ],
)
def test_an_id_beyond_any_work_matches_nothing_or_is_refused_never_a_500(client, query):
    for collection in ("projects", "restrictions"):
        response = client.get(f"/ogc/collections/{collection}/items?{query}")
        assert response.status_code in (200, 400), (collection, query, response.status_code)
        if response.status_code == 200:
            assert response.get_json()["numberReturned"] == 0
