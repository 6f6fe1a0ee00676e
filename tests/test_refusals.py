"""Input that once crashed the app (500) or misled it: each is refused with a 4xx and a
message, and nothing of it is written. Also the limits on text, geometry and bodies."""

import json
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select, text

from tests.conftest import MIYAJI_STATION
from tests.test_project_editing import LAT, LON, form_data
from tracker.accounts.models import LoginAttempt
from tracker.accounts.operations import create_token
from tracker.indicators.models import IndicatorFigure
from tracker.projects.models import Project

PASSWORD = "correct horse battery"
DEEP = "[" * 3000


def count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def token(session, make_user):
    return {"Authorization": f"Bearer {create_token(session, make_user(role='staff'))}"}


def feature(**properties):
    lon, lat = MIYAJI_STATION
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "坂梨橋", "kind": "bridge", "department": "建設課"} | properties,
    }


# --- what crashed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/projects"),
        ("patch", "/api/projects/1"),
        ("post", "/api/projects/1/updates"),
        ("post", "/login"),
        ("get", "/api/projects"),
        ("get", "/"),
    ],
)
def test_deeply_nested_json_is_refused_on_any_route_also_anonymously(client, method, path):
    response = getattr(client, method)(path, data=DEEP, content_type="application/json")
    assert response.status_code == 400
    said = response.get_json()["error"] if response.is_json else response.get_data(as_text=True)
    assert "入れ子が深すぎます" in said


def test_deeply_nested_json_with_a_token_writes_nothing(client, session, token):
    before = count(session, Project)
    response = client.post(
        "/api/projects", data=DEEP, content_type="application/json", headers=token
    )
    assert response.status_code == 400 and response.get_json()["error"].startswith("body:")
    assert count(session, Project) == before


def test_an_overlong_sign_in_name_is_refused_and_records_nothing(client, session, make_user):
    make_user(login="tanaka", password=PASSWORD)
    response = client.post("/login", data={"login": "x" * 5000, "password": PASSWORD})
    assert response.status_code == 400
    assert "長すぎます" in response.get_data(as_text=True)
    assert count(session, LoginAttempt) == 0


@pytest.mark.parametrize(
    "next_path",
    ["/%09/evil.example/", "/%0A/evil.example/", "/%0D%0A/evil.example/", "/\\evil.example"],
)
def test_control_characters_in_next_never_lead_off_the_site(client, make_user, next_path):
    make_user(login="tanaka", password=PASSWORD)
    form = client.get(f"/login?next={next_path}")
    assert form.status_code == 200
    hidden = form.get_data(as_text=True).split('name="next"')[1].split(">")[0]
    value = hidden.split('value="')[1].split('"')[0] if 'value="' in hidden else ""
    response = client.post("/login", data={"login": "tanaka", "password": PASSWORD, "next": value})
    assert response.status_code == 302
    # A staff member's own landing page: the bad target is dropped, not followed.
    assert response.headers["Location"] == "/staff/"


def test_a_plain_path_in_next_is_still_followed(client, make_user):
    make_user(login="tanaka", password=PASSWORD)
    response = client.post(
        "/login", data={"login": "tanaka", "password": PASSWORD, "next": "/plan?kind=road"}
    )
    assert response.headers["Location"] == "/plan?kind=road"


@pytest.mark.parametrize("year", ["²", "２０２４٢", "1e3"])
def test_a_fiscal_year_of_odd_digits_is_refused(client, session, make_user, login_as, year):
    login_as(make_user(role="staff"))
    before = count(session, IndicatorFigure)
    response = client.post(
        "/plan/indicators/figures",
        data={"indicator": "m13_revetment", "fiscal_year": year, "value": "1", "source": "x"},
    )
    assert response.status_code == 400 and "fiscal_year" in response.get_data(as_text=True)
    assert client.get(f"/plan?fiscal_year={year}").status_code == 400
    assert count(session, IndicatorFigure) == before


@pytest.mark.parametrize("value", ["1e999999999", "-1e999999999", "1e-999999999", "NaN"])
def test_a_huge_figure_is_refused(client, session, make_user, login_as, value):
    login_as(make_user(role="staff"))
    before = count(session, IndicatorFigure)
    response = client.post(
        "/plan/indicators/figures",
        data={"indicator": "m13_revetment", "fiscal_year": "2024", "value": value, "source": "x"},
    )
    if value == "1e-999999999":
        # Tiny but finite: it rounds to 0.000, a figure like any other.
        assert response.status_code == 201
        return
    assert response.status_code == 400 and "value" in response.get_data(as_text=True)
    assert count(session, IndicatorFigure) == before


@pytest.mark.parametrize(
    "geometry",
    [
        "[" * 3000,
        '{"type": "Point", "coordinates": ' + "[" * 3000 + "]" * 3000 + "}",
        "GEOMETRYCOLLECTION(" * 3000 + "POINT(131 32)" + ")" * 3000,
    ],
)
def test_deeply_nested_geometry_text_is_refused_in_both_forms(
    client, session, make_user, login_as, make_project, geometry
):
    login_as(make_user(role="staff"))
    project = make_project()
    before = count(session, Project)
    response = client.post("/projects/new", data=form_data(geometry=geometry))
    assert response.status_code == 400
    assert "入れ子が深すぎます" in response.get_data(as_text=True)
    edit = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    version = edit.split('name="version"')[1].split('value="')[1].split('"')[0]
    response = client.post(
        f"/projects/{project.id}/edit", data=form_data(geometry=geometry, version=version)
    )
    assert response.status_code == 400
    assert "入れ子が深すぎます" in response.get_data(as_text=True)
    assert count(session, Project) == before


def test_found_by_fuzzing_an_empty_if_match_is_stale_not_a_crash(client, token, make_project):
    project = make_project()
    response = client.patch(
        f"/api/projects/{project.id}",
        json={"properties": {}},
        headers=token | {"If-Match": '""'},
    )
    assert response.status_code == 412


def test_found_by_fuzzing_a_form_part_with_a_malformed_name_is_ignored(client, token, make_project):
    project = make_project()
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="status"\r\n\r\ndesign\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="progress"\r\n\r\n5\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="c\\"\r\n\r\n-16683\r\n--XX--\r\n'
    )
    response = client.post(
        f"/api/projects/{project.id}/updates",
        data=body,
        content_type="multipart/form-data; boundary=XX",
        headers=token,
    )
    assert response.status_code == 201


# --- limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "properties, field",
    [
        ({"name": "橋" * 201}, "name"),
        ({"department": "課" * 101}, "department"),
        ({"description": "説" * 5001}, "description"),
        ({"name": "坂梨\n橋"}, "name"),
        ({"name": "坂梨\t橋"}, "name"),
        ({"name": "坂梨\u202e橋"}, "name"),
        ({"name": "坂梨\x07橋"}, "name"),
        ({"description": "鐘\x1b[31m"}, "description"),
        ({"name": "坂梨\ufffe橋"}, "name"),
        ({"planned_start": "1999-12-31"}, "planned_start"),
    ],
)
def test_text_limits_hold_for_the_api(client, session, token, properties, field):
    before = count(session, Project)
    response = client.post("/api/projects", json=feature(**properties), headers=token)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{field}:")
    assert count(session, Project) == before


def test_text_at_the_limits_is_accepted(client, session, make_user):
    # Of the department at its longest, so that the work may be created in it.
    staff = make_user(role="staff", departments=["課" * 100])
    response = client.post(
        "/api/projects",
        json=feature(name="橋" * 200, department="課" * 100, description="説明\n\t" * 1250),
        headers={"Authorization": f"Bearer {create_token(session, staff)}"},
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "橋" * 201}, "200文字まで"),
        ({"department": "課" * 101}, "100文字まで"),
        ({"description": "説" * 5001}, "5000文字まで"),
        ({"name": "坂梨\u202e橋"}, "文字の向き"),
        ({"planned_start": "1999-04-01"}, "2000〜2100年"),
        ({"planned_end": "2101-03-31"}, "2000〜2100年"),
    ],
)
def test_text_and_date_limits_hold_for_the_form(
    client, session, make_user, login_as, overrides, message
):
    login_as(make_user(role="staff"))
    before = count(session, Project)
    response = client.post("/projects/new", data=form_data(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(session, Project) == before


def test_a_geometry_with_too_many_vertices_is_refused(client, session, token, make_user, login_as):
    points = [[LON + i * 1e-7, LAT] for i in range(10_001)]
    body = feature()
    body["geometry"] = {"type": "MultiPoint", "coordinates": points}
    before = count(session, Project)
    response = client.post("/api/projects", json=body, headers=token)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["code"] == "geometry_vertices" and "10,001点" in answer["error"]
    login_as(make_user(role="staff"))
    wkt = "MULTIPOINT (" + ", ".join(f"{x} {y}" for x, y in points) + ")"
    response = client.post("/projects/new", data=form_data(geometry=wkt))
    assert response.status_code == 400 and "頂点が多すぎます" in response.get_data(as_text=True)
    assert count(session, Project) == before


def test_the_200000_point_multipoint_and_50_mb_description_are_refused(client, session, token):
    before = count(session, Project)
    body = feature()
    body["geometry"] = {"type": "MultiPoint", "coordinates": [[LON, LAT]] * 200_000}
    response = client.post("/api/projects", json=body, headers=token)
    assert response.status_code == 413 and "error" in response.get_json()
    response = client.post(
        "/api/projects", json=feature(description="x" * 50_000_000), headers=token
    )
    assert response.status_code == 413
    assert count(session, Project) == before


def test_control_characters_are_refused_in_any_field(client, make_user, login_as):
    login_as(make_user(role="staff"))
    response = client.get("/plan?q=%07bell")
    assert response.status_code == 400
    assert "U+0007" in response.get_data(as_text=True)


def test_the_feed_stays_well_formed_whatever_a_name_holds(client, session, make_project):
    project = make_project(name="宮地駅前橋")
    # Written past the checks, as an older version of the app could have stored it.
    session.execute(
        text("UPDATE projects SET name = :name WHERE id = :id"),
        {"name": "橋\x01\x08 <b>&amp;</b> ]]> \ufffe", "id": project.id},
    )
    session.flush()
    body = client.get("/near/feed.atom?lat=32.937&lon=131.11879&radius=1000").data
    root = ET.fromstring(body)
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert any("橋 <b>&amp;</b> ]]>" in (t or "") for t in titles)


# --- anonymous API writes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/projects"),
        ("patch", "/api/projects/1"),
        ("post", "/api/projects/1/updates"),
    ],
)
def test_anonymous_api_writes_get_401_with_the_scheme_to_use(csrf_app, method, path):
    response = getattr(csrf_app.test_client(), method)(path, json=feature())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.get_json()["error"]


def test_a_signed_in_cookie_without_a_csrf_token_still_gets_400(csrf_app, make_user, login_as):
    client = login_as(make_user(role="staff"), csrf_app.test_client())
    response = client.post("/api/projects", json=feature())
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["error"]


def test_a_revoked_token_gets_401_with_the_scheme(client):
    response = client.post(
        "/api/projects", json=feature(), headers={"Authorization": "Bearer no-such-token"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert json.loads(response.data)["error"]
