"""Writing projects through the API: create, edit with ETags, refusals, roles and audit."""

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from tests.conftest import MIYAJI_STATION
from tracker.accounts.operations import create_token
from tracker.projects.audit import ProjectChange
from tracker.projects.models import Project

LON, LAT = MIYAJI_STATION


def feature(geometry=None, **properties):
    """A GeoJSON Feature for a new bridge project near Miyaji station."""
    props = {
        "name": "坂梨橋 補修",
        "kind": "bridge",
        "department": "建設課",
        "planned_start": "2025-04-01",
        "planned_end": "2026-03-31",
        "plan_items": ["p5.m13.s1"],
        "indicators": ["m13_bridges_repaired"],
        "public": True,
        "description": "橋脚の補修",
    } | properties
    return {
        "type": "Feature",
        "geometry": geometry or {"type": "Point", "coordinates": [LON, LAT]},
        "properties": props,
    }


@pytest.fixture
def token_for(session, make_user):
    """A bearer header for a new user of the given role."""

    def make(role="staff", departments=None):
        user = make_user(role=role, departments=departments)
        return {"Authorization": f"Bearer {create_token(session, user)}"}

    return make


def project_count(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Project))


# --- Create ---------------------------------------------------------------------------------


def test_staff_creates_a_project_from_a_feature(client, token_for, session):
    staff = token_for("staff")
    response = client.post("/api/projects", json=feature(), headers=staff)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["type"] == "Feature"
    props = body["properties"]
    assert props["name"] == "坂梨橋 補修" and props["status"] == "planned"
    assert props["plan_items"] == ["p5.m13.s1"] and props["public"] is True
    assert body["geometry"] == {"type": "Point", "coordinates": [LON, LAT]}
    assert response.headers["Location"].endswith(f"/api/projects/{body['id']}")
    assert response.headers["ETag"] == f'"p{body["id"]}-v1"'

    # Read back by the same caller: staff also read the works register's internal fields.
    fetched = client.get(response.headers["Location"], headers=staff)
    assert fetched.get_json() == body and fetched.headers["ETag"] == response.headers["ETag"]


def test_creation_is_audited_with_its_author(client, token_for, session, make_user):
    response = client.post("/api/projects", json=feature(), headers=token_for("admin"))
    [row] = session.scalars(
        select(ProjectChange).where(ProjectChange.project_id == response.get_json()["id"])
    ).all()
    assert row.action == "create" and row.user.role == "admin"
    assert row.changes["name"] == {"old": None, "new": "坂梨橋 補修"}
    assert row.changes["geometry"]["new"]["type"] == "Point"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": ""}, "name"),
        ({"department": None}, "department"),
        ({"kind": "castle"}, "kind"),
        ({"status": "finished"}, "status"),
        ({"progress": 140}, "progress"),
        ({"progress": "50"}, "progress"),
        ({"planned_start": "2025/04/01"}, "planned_start"),
        ({"planned_end": "2024-01-01"}, "planned_end"),
        ({"public": "yes"}, "public"),
        ({"plan_items": ["p99.m1"]}, "plan_items"),
        ({"indicators": "m13_bridges_repaired"}, "indicators"),
        ({"colour": "red"}, "colour"),
        ({"name": "坂梨橋\x00"}, "name"),
        # A new project follows the same rules as a status update.
        ({"status": "completed", "progress": 40, "actual_end": "2025-12-01"}, "progress"),
        ({"status": "completed", "progress": 100}, "actual_end"),
    ],
)
def test_bad_fields_are_refused_by_name(client, token_for, session, change, field):
    before = project_count(session)
    response = client.post("/api/projects", json=feature(**change), headers=token_for())
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{field}:")
    assert project_count(session) == before


def test_a_body_that_is_not_a_feature_is_refused(client, token_for):
    headers = token_for()
    assert client.post("/api/projects", data="name=x", headers=headers).status_code == 400
    response = client.post("/api/projects", json={"type": "FeatureCollection"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"].startswith("type:")
    response = client.post("/api/projects", json={"properties": {"name": "x"}}, headers=headers)
    assert response.get_json()["error"].startswith("geometry:")


# --- Geometry refusals ----------------------------------------------------------------------

BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[LON, LAT], [LON + 0.01, LAT + 0.01], [LON + 0.01, LAT], [LON, LAT + 0.01], [LON, LAT]]
    ],
}


@pytest.mark.parametrize(
    "geometry, kind, code, says",
    [
        (
            {"type": "Point", "coordinates": ["x", 32.9]},
            "bridge",
            "geometry_parse",
            "[経度, 緯度] の数値の組",
        ),
        (
            {"type": "Hexagon", "coordinates": [1, 2]},
            "bridge",
            "geometry_parse",
            "「Hexagon」という種類の形はありません",
        ),
        (
            {"type": "Point", "coordinates": [LON, LAT]},
            "road",
            "geometry_type",
            "「道路」には点の形は使えません",
        ),
        (
            {"type": "Point", "coordinates": [130.7, 32.8]},
            "bridge",
            "geometry_outside",
            "阿蘇市の区域から約",
        ),
        (
            {"type": "Point", "coordinates": [LAT, LON]},
            "bridge",
            "geometry_not_lon_lat",
            "経度・緯度になっていません",
        ),
        (BOWTIE, "sabo", "geometry_invalid", "線が自分自身と交差しています"),
        (
            {"type": "Point", "coordinates": [float("nan"), LAT]},
            "bridge",
            "geometry_not_finite",
            "数値でない値",
        ),
        (
            {"type": "Point", "coordinates": [LON, float("inf")]},
            "bridge",
            "geometry_not_finite",
            "数値でない値",
        ),
    ],
)
def test_refused_geometries_say_why_and_save_nothing(
    client, token_for, session, geometry, kind, code, says
):
    before = project_count(session)
    response = client.post("/api/projects", json=feature(geometry, kind=kind), headers=token_for())
    assert response.status_code == 400
    body = response.get_json()
    assert (body["code"], body["field"]) == (code, "geometry")
    assert body["error"].startswith("geometry: ") and says in body["error"]
    assert project_count(session) == before


def test_a_self_intersecting_polygon_comes_back_repaired(client, token_for, session):
    response = client.post("/api/projects", json=feature(BOWTIE, kind="sabo"), headers=token_for())
    body = response.get_json()
    # Said in words, with the crossing marked: never GEOS's own "Self-intersection[x y]".
    assert (
        "Self-intersection" not in body["error"] and "線が自分自身と交差しています" in body["error"]
    )
    assert body["code"] == "geometry_invalid"
    assert body["location"]["coordinates"] == pytest.approx([LON + 0.005, LAT + 0.005])
    repaired = shape(body["repaired"])
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    # Both lobes of the bow tie are kept: two triangles, half the bounding square.
    assert len(repaired.geoms) == 2 and repaired.area == pytest.approx(0.01 * 0.01 / 2)
    # Sending the offered shape back is accepted.
    again = client.post(
        "/api/projects", json=feature(body["repaired"], kind="sabo"), headers=token_for()
    )
    assert again.status_code == 201


def test_a_height_from_a_gps_is_dropped_not_refused(client, token_for):
    point = {"type": "Point", "coordinates": [LON, LAT, 512.5]}
    response = client.post("/api/projects", json=feature(point), headers=token_for())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["geometry"]["coordinates"] == [LON, LAT]


def test_a_completed_project_is_registered_with_its_end_date(client, token_for):
    done = {"status": "completed", "progress": 100, "actual_end": "2025-12-01"}
    response = client.post("/api/projects", json=feature(**done), headers=token_for())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["properties"]["actual_end"] == "2025-12-01"


def test_a_point_just_outside_the_boundary_is_within_tolerance(client, token_for, session):
    # 200 m beyond the city's westernmost point: within the 500 m tolerance.
    lon, lat = _outside_by(session, 200)
    response = client.post(
        "/api/projects",
        json=feature({"type": "Point", "coordinates": [lon, lat]}),
        headers=token_for(),
    )
    assert response.status_code == 201, response.get_json()
    lon, lat = _outside_by(session, 900)
    response = client.post(
        "/api/projects",
        json=feature({"type": "Point", "coordinates": [lon, lat]}),
        headers=token_for(),
    )
    assert response.status_code == 400


def _outside_by(session, metres):
    """A point `metres` west of the boundary's westernmost point."""
    from sqlalchemy import text

    return session.execute(
        text(
            """
            WITH w AS (
                SELECT (dp).geom AS g FROM city_boundaries b, ST_DumpPoints(b.geom) dp
                WHERE b.code = '43214' ORDER BY ST_X((dp).geom) LIMIT 1)
            SELECT ST_X(p), ST_Y(p) FROM (
                SELECT ST_Project(geography(g), :m, radians(270))::geometry AS p FROM w) q
            """
        ),
        {"m": metres},
    ).one()


# --- Edit with ETags ------------------------------------------------------------------------


@pytest.fixture
def bridge(make_project):
    return make_project(name="宮地橋 補修", kind="bridge", department="建設課")


def _etag(client, project_id):
    return client.get(f"/api/projects/{project_id}").headers["ETag"]


def test_an_edit_changes_only_the_fields_sent(client, token_for, session, bridge):
    headers = token_for()
    etag = _etag(client, bridge.id)
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"name": "宮地橋 補修（第2期）", "actual_start": "2025-06-01"}},
        headers=headers | {"If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    props = response.get_json()["properties"]
    assert props["name"] == "宮地橋 補修（第2期）" and props["actual_start"] == "2025-06-01"
    assert props["department"] == "建設課" and props["planned_start"] == "2022-04-01"
    assert response.headers["ETag"] != etag
    assert response.headers["ETag"] == _etag(client, bridge.id)


def test_an_edit_without_if_match_gets_428(client, token_for, session, bridge):
    url = f"/api/projects/{bridge.id}"
    for extra in ({}, {"If-Match": "*"}):
        response = client.patch(
            url, json={"properties": {"name": "上書き"}}, headers=token_for() | extra
        )
        assert response.status_code == 428
        assert "If-Match" in response.get_json()["error"]
    session.refresh(bridge)
    assert bridge.name == "宮地橋 補修"


def test_a_stale_edit_gets_412_and_never_overwrites(client, token_for, session, bridge):
    stale = _etag(client, bridge.id)
    first = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"department": "土木課"}},
        headers=token_for(departments=["建設課", "土木課"]) | {"If-Match": stale},
    )
    assert first.status_code == 200
    second = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"department": "農政課", "name": "別の名前"}},
        headers=token_for(departments=["土木課", "農政課"]) | {"If-Match": stale},
    )
    assert second.status_code == 412
    body = second.get_json()
    assert body["changed"] == ["department"] and body["code"] == "stale_version"
    assert "もう一度 GET し" in body["error"]
    assert second.headers["ETag"] == first.headers["ETag"]
    session.expire_all()
    assert (bridge.department, bridge.name) == ("土木課", "宮地橋 補修")


def test_a_status_update_since_the_etag_is_named_in_the_412(client, token_for, session, bridge):
    stale = _etag(client, bridge.id)
    headers = token_for()
    update = {"status": "construction", "progress": 20, "note": "着工"}
    assert (
        client.post(f"/api/projects/{bridge.id}/updates", json=update, headers=headers).status_code
        == 201
    )
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"name": "上書き"}},
        headers=headers | {"If-Match": stale},
    )
    assert response.status_code == 412
    assert set(response.get_json()["changed"]) == {"status", "progress", "actual_start"}
    # The audit trail records the update's effect on the project, with its author.
    row = session.scalars(
        select(ProjectChange)
        .where(ProjectChange.project_id == bridge.id)
        .order_by(ProjectChange.id.desc())
    ).first()
    assert row.changes["status"] == {"old": "planned", "new": "construction"}
    assert row.changes["progress"] == {"old": 0, "new": 20}
    assert row.user.role == "staff"


def test_an_etag_with_an_impossible_version_is_stale(client, token_for, session, bridge):
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"name": "上書き"}},
        headers=token_for() | {"If-Match": f'"p{bridge.id}-v{10**30}"'},
    )
    assert response.status_code == 412
    session.expire_all()
    assert bridge.name == "宮地橋 補修"


def test_an_id_too_large_for_the_database_is_not_found(client, token_for):
    huge = 10**20
    response = client.post(
        f"/api/projects/{huge}/updates",
        json={"status": "design", "progress": 5},
        headers=token_for(),
    )
    assert response.status_code == 404 and "error" in response.get_json()
    assert client.get(f"/api/projects/{huge}").status_code == 404


def test_an_etag_of_another_project_does_not_match(client, token_for, bridge, make_project):
    other = make_project(name="別の橋")
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"name": "x"}},
        headers=token_for() | {"If-Match": _etag(client, other.id)},
    )
    assert response.status_code == 412


def test_a_fetched_feature_can_be_sent_back_as_is(client, token_for, bridge):
    got = client.get(f"/api/projects/{bridge.id}")
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json=got.get_json(),
        headers=token_for() | {"If-Match": got.headers["ETag"]},
    )
    assert response.status_code == 200
    # Nothing changed, so the version stays: other people's ETags stay good.
    assert response.headers["ETag"] == got.headers["ETag"]


def test_status_changes_through_updates_not_edits(client, token_for, session, bridge):
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"status": "completed"}},
        headers=token_for() | {"If-Match": _etag(client, bridge.id)},
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("status:")


def test_edits_are_audited_with_old_and_new_values(client, token_for, session, bridge):
    headers = token_for("staff")
    client.patch(
        f"/api/projects/{bridge.id}",
        json={
            "geometry": {"type": "Point", "coordinates": [LON + 0.001, LAT]},
            "properties": {"public": False, "plan_items": ["p1.m2.i1"]},
        },
        headers=headers | {"If-Match": _etag(client, bridge.id)},
    )
    row = session.scalars(
        select(ProjectChange).where(
            ProjectChange.project_id == bridge.id, ProjectChange.action == "update"
        )
    ).one()
    assert set(row.changes) == {"geometry", "public", "plan_items"}
    assert row.changes["public"] == {"old": True, "new": False}
    assert row.changes["plan_items"] == {"old": [], "new": ["p1.m2.i1"]}
    assert row.changes["geometry"]["new"]["coordinates"] == [LON + 0.001, LAT]
    assert row.user.role == "staff" and row.version == 2


@pytest.mark.parametrize(
    "geometry, code",
    [
        ({"type": "Point", "coordinates": "here"}, "geometry_parse"),
        (BOWTIE, "geometry_invalid"),
        (
            {"type": "LineString", "coordinates": [[130.70, 32.80], [130.71, 32.80]]},
            "geometry_outside",
        ),
    ],
)
def test_a_refused_geometry_edit_saves_nothing(client, token_for, session, bridge, geometry, code):
    etag = _etag(client, bridge.id)
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json={"geometry": geometry, "properties": {"name": "変わってはいけない"}},
        headers=token_for() | {"If-Match": etag},
    )
    assert response.status_code == 400 and response.get_json()["code"] == code
    assert _etag(client, bridge.id) == etag
    session.expire_all()
    assert bridge.name == "宮地橋 補修"
    assert (
        session.scalar(
            select(func.count()).where(
                ProjectChange.project_id == bridge.id, ProjectChange.action == "update"
            )
        )
        == 0
    )


def test_changing_kind_checks_the_geometry_again(client, token_for, bridge):
    response = client.patch(
        f"/api/projects/{bridge.id}",
        json={"properties": {"kind": "road"}},
        headers=token_for() | {"If-Match": _etag(client, bridge.id)},
    )
    assert response.status_code == 400 and response.get_json()["code"] == "geometry_type"
    assert "「道路」には点の形は使えません" in response.get_json()["error"]


# --- Who may write --------------------------------------------------------------------------


def _writes(project_id):
    return [
        ("post", "/api/projects", {"json": feature()}),
        (
            "patch",
            f"/api/projects/{project_id}",
            {"json": {"properties": {"name": "x"}}, "headers": {"If-Match": "*"}},
        ),
    ]


@pytest.mark.parametrize("index", [0, 1])
def test_anonymous_callers_get_401(client, session, bridge, index):
    method, url, kwargs = _writes(bridge.id)[index]
    before = project_count(session)
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 401
    assert project_count(session) == before


@pytest.mark.parametrize("index", [0, 1])
@pytest.mark.parametrize("how", ["token", "session"])
def test_viewers_get_403(client, session, make_user, login_as, token_for, bridge, index, how):
    method, url, kwargs = _writes(bridge.id)[index]
    if how == "token":
        kwargs = kwargs | {"headers": kwargs.get("headers", {}) | token_for("viewer")}
    else:
        login_as(make_user(role="viewer"))
    before = project_count(session)
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 403
    assert project_count(session) == before
    session.refresh(bridge)
    assert bridge.name == "宮地橋 補修"


def test_admins_write_too(client, token_for):
    assert (
        client.post("/api/projects", json=feature(), headers=token_for("admin")).status_code == 201
    )


# --- CSRF on the API ------------------------------------------------------------------------


def test_cookie_signed_api_writes_need_the_csrf_header(csrf_app, session, make_user, login_as):
    client = csrf_app.test_client()
    login_as(make_user(role="staff"), client)
    assert client.post("/api/projects", json=feature()).status_code == 400
    page = client.get("/projects/new").get_data(as_text=True)
    import re

    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/api/projects", json=feature(), headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_bearer_token_writes_need_no_csrf_token(csrf_app, session, make_user):
    client = csrf_app.test_client()
    token = create_token(session, make_user(role="staff"))
    response = client.post(
        "/api/projects", json=feature(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
