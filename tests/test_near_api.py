"""GET /api/projects/nearby: public projects around a point, nearest first, in metres."""

from datetime import date, timedelta

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text

from tracker.core import clock
from tracker.near.queries import nearby_params, nearby_statement
from tracker.projects.history import append_status
from tracker.projects.queries import Circle
from tracker.restrictions.operations import add_restriction, end_restriction

# A spot in the south of the city with no shelter within 3.8 km.
HERE = (131.10, 32.90)
M_PER_DEG_LAT = 110_940  # near 33°N


def north(metres: float, lon: float = HERE[0]) -> Point:
    """Return a point this many metres north of HERE."""
    return Point(lon, HERE[1] + metres / M_PER_DEG_LAT)


def nearby(client, **args):
    args = {"lat": HERE[1], "lon": HERE[0], "radius": 1000} | args
    return client.get("/api/projects/nearby", query_string=args)


def test_nearest_first_with_distances_and_only_inside_the_radius(client, make_project):
    far = make_project(name="800 m", geometry=north(800))
    mid = make_project(name="300 m", geometry=north(300))
    near = make_project(name="100 m", geometry=north(100))
    road = make_project(
        name="道路 200 m",
        kind="road",
        geometry=LineString(
            [
                (HERE[0] - 0.01, HERE[1] - 200 / M_PER_DEG_LAT),
                (HERE[0] + 0.01, HERE[1] - 200 / M_PER_DEG_LAT),
            ]
        ),
    )

    answer = nearby(client, radius=500)

    assert answer.status_code == 200
    assert answer.mimetype == "application/geo+json"
    data = answer.get_json()
    assert data["type"] == "FeatureCollection"
    assert [f["id"] for f in data["features"]] == [near.id, road.id, mid.id]
    distances = [f["properties"]["distance_m"] for f in data["features"]]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(100, abs=2)
    # A line counts from its nearest point, not its middle or first vertex.
    assert distances[1] == pytest.approx(200, abs=2)
    assert all(d <= 500 for d in distances)
    assert far.id not in [f["id"] for f in nearby(client, radius=799).get_json()["features"]]
    assert far.id in [f["id"] for f in nearby(client, radius=801).get_json()["features"]]


def test_radius_limits_are_inclusive(client, make_project):
    make_project(name="近く", geometry=north(0.5))
    assert len(nearby(client, radius=1).get_json()["features"]) == 1
    assert nearby(client, radius=10000).status_code == 200


@pytest.mark.parametrize(
    ("args", "field", "code", "says"),
    [
        ({"lat": None}, "lat", "required", "緯度（lat）と経度（lon）"),
        ({"lon": None}, "lon", "required", "緯度（lat）と経度（lon）"),
        ({"lat": None, "lon": None}, "lat", "required", "緯度（lat）と経度（lon）"),
        ({"lat": "abc"}, "lat", "not_a_number", "数値ではありません"),
        ({"lon": "131,1"}, "lon", "not_a_number", "数値ではありません"),
        ({"lat": "nan"}, "lat", "not_a_number", "有限の数値"),
        ({"lon": "inf"}, "lon", "not_a_number", "有限の数値"),
        ({"lat": "-Infinity"}, "lat", "not_a_number", "有限の数値"),
        ({"lat": "1e400"}, "lat", "not_a_number", "有限の数値"),
        ({"lon": ""}, "lon", "required", "緯度（lat）と経度（lon）"),
        ({"lat": 95}, "lat", "out_of_range", "緯度は -90〜90"),
        # Tokyo station; Kumamoto, 26 km from the boundary.
        ({"lat": 35.681, "lon": 139.767}, "lat/lon", "outside_area", "阿蘇市の境界から約"),
        ({"lat": 32.80, "lon": 130.71}, "lat/lon", "outside_area", "阿蘇市の境界から約26 km"),
        ({"radius": 0}, "radius", "out_of_range", "メートルで指定"),
        ({"radius": 10001}, "radius", "out_of_range", "メートルで指定"),
        ({"radius": "1km"}, "radius", "not_a_number", "数値ではありません"),
        ({"radius": "nan"}, "radius", "not_a_number", "有限の数値"),
        ({"radius": -5}, "radius", "out_of_range", "メートルで指定"),
    ],
)
def test_bad_requests_say_what_is_wrong(client, args, field, code, says):
    query = {"lat": HERE[1], "lon": HERE[0], "radius": 1000} | args
    query = {k: v for k, v in query.items() if v is not None}
    answer = client.get("/api/projects/nearby", query_string=query)
    assert answer.status_code == 400
    body = answer.get_json()
    # The API's contract: the field first ("lat: …"), a stable code, the words for people.
    assert body["error"].startswith(f"{field}: ") and says in body["error"]
    assert (body["field"], body["code"]) == (field, code)


def test_bad_requests_are_said_in_english_on_request(client):
    answer = client.get(
        "/api/projects/nearby", query_string={"lat": "abc", "lon": 131, "lang": "en"}
    )
    body = answer.get_json()
    assert body == {"error": "lat: not a number (abc)", "code": "not_a_number", "field": "lat"}


def test_a_point_just_outside_the_city_is_served(client):
    # About 10 km west of the western boundary (大津町): a resident visiting family.
    assert nearby(client, lat=32.88, lon=130.85).status_code == 200


PUBLIC_PROPERTIES = {
    "id", "name", "kind", "status", "progress", "planned_start", "planned_end",
    "actual_start", "actual_end", "sample", "designated_shelter", "address",
    "distance_m", "restrictions", "position_only",
}  # fmt: skip


def test_staff_only_projects_and_internal_fields_never_appear(
    client, session, make_project, make_user, login_as
):
    public = make_project(name="公開の橋", geometry=north(50), department="秘密の担当課")
    append_status(session, public.id, status="construction", progress=20, note="内部メモ: 業者A")
    make_project(name="職員のみの検討", geometry=north(60), is_public=False)
    # Signed in as staff changes nothing: the nearby answer is for everyone.
    login_as(make_user(role="staff"))

    body = nearby(client).get_data(as_text=True)
    data = nearby(client).get_json()

    assert [f["properties"]["name"] for f in data["features"]] == ["公開の橋"]
    assert set(data["features"][0]["properties"]) == PUBLIC_PROPERTIES
    for secret in ("職員のみの検討", "秘密の担当課", "内部メモ", "業者A", "department", "note"):
        assert secret not in body


def test_restrictions_travel_with_their_project_until_they_end(client, session, make_project):
    project = make_project(name="市道 改良", geometry=north(100))
    today = clock.today()
    add_restriction(
        session, project, kind="closed", starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=10), description="終日通行止め",
    )  # fmt: skip
    add_restriction(
        session, project, kind="detour", starts_on=today + timedelta(days=20),
        description="迂回路を案内します",
    )  # fmt: skip
    lifted = add_restriction(
        session, project, kind="alternating", starts_on=today - timedelta(days=5),
        description="解除済みの片側交互通行",
    )  # fmt: skip
    end_restriction(session, lifted)
    add_restriction(
        session, project, kind="lane", starts_on=date(2020, 1, 1), ends_on=date(2020, 2, 1),
        description="昔の車線規制",
    )  # fmt: skip

    restrictions = nearby(client).get_json()["features"][0]["properties"]["restrictions"]

    assert [(r["kind"], r["in_force"], r["description"]) for r in restrictions] == [
        ("closed", True, "終日通行止め"),
        ("detour", False, "迂回路を案内します"),
    ]


def test_the_nearby_query_uses_the_geography_index(session, make_project):
    for n in range(30):
        make_project(name=f"事業{n}", geometry=north(40 * n))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    params = nearby_params(Circle(HERE[1], HERE[0], 500), today=clock.today())
    statement = nearby_statement().params(params)
    sql = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))
    assert "ix_projects_geog" in plan, plan


def test_a_limit_keeps_the_nearest_and_says_more_exist(client, make_project):
    ids = [make_project(name=f"{m} m", geometry=north(m)).id for m in (300, 100, 200)]
    data = nearby(client, limit=2).get_json()
    assert [f["id"] for f in data["features"]] == [ids[1], ids[2]]
    assert data["numberReturned"] == 2 and data["truncated"] is True
    assert nearby(client, limit=3).get_json()["truncated"] is False
    assert nearby(client, limit=0).status_code == 400


def test_the_long_nearby_statement_is_converted_for_the_driver_once(client, monkeypatch):
    # psycopg keeps converted statements only up to a length; the nearby search is longer
    # than its default, and converting it anew on every request cost more than anything else.
    from psycopg import _queries

    def ask(lat: float) -> None:
        query = {"lat": lat, "lon": HERE[0], "radius": 1000}
        assert client.get("/api/projects/nearby", query_string=query).status_code == 200

    ask(HERE[1])
    converted = []
    kept, afresh = _queries._query2pg, _queries._query2pg_nocache

    def convert_afresh(query, *args):
        converted.append(query)
        return afresh(query, *args)

    def convert_or_recall(query, *args):
        misses = kept.cache_info().misses
        answer = kept(query, *args)
        if kept.cache_info().misses > misses:
            converted.append(query)
        return answer

    monkeypatch.setattr(_queries, "_query2pg_nocache", convert_afresh)
    monkeypatch.setattr(_queries, "_query2pg", convert_or_recall)
    ask(HERE[1] + 0.001)
    assert not [q for q in converted if b"FeatureCollection" in q or b"json_build_object" in q]
