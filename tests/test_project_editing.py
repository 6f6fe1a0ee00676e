"""The staff pages that create and edit projects: the form, the drawing map, stale saves,
geometry refusals, roles, CSRF and the audit trail on the project page."""

import json
import re

import pytest
from shapely.geometry import LineString, shape
from sqlalchemy import func, select

from tests.conftest import MIYAJI_STATION
from tracker.projects.audit import ProjectChange
from tracker.projects.models import Project
from tracker.projects.operations import update_project

LON, LAT = MIYAJI_STATION
PASSWORD = "correct horse battery"


def form_data(**overrides):
    """What the new-project form sends for a bridge near Miyaji station."""
    return {
        "name": "坂梨橋 補修",
        "kind": "bridge",
        "status": "planned",
        "progress": "0",
        "planned_start": "2025-04-01",
        "planned_end": "2026-03-31",
        "department": "建設課",
        "public": "y",
        "description": "橋脚の補修",
        "geometry": f"POINT ({LON} {LAT})",
        "plan_items": ["p5.m13", "p5.m13.s1"],
        "indicators": ["m13_bridges_repaired"],
    } | overrides


def edit_data(page_html, **overrides):
    """The fields of a loaded edit form, as the browser would send them back."""
    data = {}
    for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page_html):
        if name not in ("plan_items", "indicators", "public", "csrf_token"):
            data[name] = value
    for name in ("geometry", "description"):
        found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', page_html, re.S)
        data[name] = _unescape(found.group(1))
    data["kind"] = re.search(r'<option selected value="(\w+)"', page_html).group(1)
    department = re.search(
        r'name="department".*?<option[^>]* selected value="([^"]+)"', page_html, re.S
    )
    data["department"] = _unescape(department.group(1))
    data["plan_items"] = re.findall(r'name="plan_items" value="([^"]+)" checked', page_html)
    data["indicators"] = re.findall(r'name="indicators" value="([^"]+)" checked', page_html)
    if re.search(r'id="public"[^>]*checked|checked[^>]*id="public"', page_html):
        data["public"] = "y"
    for name in ("version", "loaded"):
        data[name] = _unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', page_html).group(1))
    return data | overrides


def _unescape(text):
    import html

    return html.unescape(text)


@pytest.fixture
def staff(make_user, login_as):
    # Of both departments the edits below move works between.
    user = make_user(role="staff", display_name="田中 一郎", departments=["建設課", "土木課"])
    login_as(user)
    return user


def test_the_new_project_page_has_a_local_drawing_map(client, staff):
    page = client.get("/projects/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert re.search(r"/vendor/leaflet-draw/dist/leaflet\.draw\.[0-9a-f]{12}\.js", text)
    assert re.search(r"/vendor/leaflet-draw/dist/leaflet\.draw\.[0-9a-f]{12}\.css", text)
    assert "cdn" not in text.lower()
    assert 'name="geometry"' in text and "GeoJSON または WKT" in text
    # Plan links are grouped by measure, with the measure's indicators.
    assert "補修済橋梁数" in text or "m13_bridges_repaired" in text
    assert (
        client.get(
            re.search(r'src="(/static/editing/project_editor\.[0-9a-f]{12}\.js)"', text)[1]
        ).status_code
        == 200
    )


def test_staff_create_a_project_with_pasted_wkt(client, session, staff):
    response = client.post("/projects/new", data=form_data())
    assert response.status_code == 302
    project = session.scalars(select(Project).where(Project.name == "坂梨橋 補修")).one()
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    assert [i.code for i in project.plan_items] == ["p5.m13", "p5.m13.s1"]
    assert [i.code for i in project.indicators] == ["m13_bridges_repaired"]
    assert project.is_public and str(project.planned_start) == "2025-04-01"
    audit = session.scalars(
        select(ProjectChange).where(ProjectChange.project_id == project.id)
    ).one()
    assert audit.action == "create" and audit.user_id == staff.id


def test_pasted_geojson_is_accepted_too(client, session, staff):
    line = {"type": "LineString", "coordinates": [[LON, LAT], [LON + 0.004, LAT + 0.001]]}
    response = client.post(
        "/projects/new",
        data=form_data(kind="road", name="市道 宮地線", geometry=json.dumps(line)),
    )
    assert response.status_code == 302
    project = session.scalars(select(Project).where(Project.name == "市道 宮地線")).one()
    assert project.kind == "road"


def count(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Project))


BOWTIE_WKT = (
    f"POLYGON (({LON} {LAT}, {LON + 0.01} {LAT + 0.01}, {LON + 0.01} {LAT}, "
    f"{LON} {LAT + 0.01}, {LON} {LAT}))"
)


@pytest.mark.parametrize(
    "overrides, says",
    [
        ({"geometry": "POINT (131.1"}, "読み取れません"),
        ({"geometry": "LINESTRING EMPTY"}, "空です"),
        ({"geometry": BOWTIE_WKT, "kind": "sabo"}, "形状が不正です"),
        ({"kind": "road"}, "「道路」には点の形は使えません"),
        ({"geometry": "POINT (130.7 32.8)"}, "阿蘇市の区域から約"),
        ({"geometry": ""}, "地図に描くか"),
    ],
)
def test_refused_geometries_are_explained_and_nothing_is_saved(
    client, session, staff, overrides, says
):
    before = count(session)
    response = client.post("/projects/new", data=form_data(**overrides))
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)
    assert count(session) == before


def test_a_self_intersecting_shape_is_offered_repaired_on_the_map(client, session, staff):
    response = client.post("/projects/new", data=form_data(geometry=BOWTIE_WKT, kind="sabo"))
    text = response.get_data(as_text=True)
    assert 'id="use-repaired"' in text and "修正した形を使う" in text
    options = json.loads(re.search(r"AsoEditor\.attach\([^,]+,\s*[^,]+,\s*(\{.*\})\);", text)[1])
    repaired = shape(options["repaired"])
    assert repaired.geom_type == "MultiPolygon" and repaired.is_valid


def test_bad_fields_are_shown_in_japanese(client, session, staff):
    before = count(session)
    response = client.post(
        "/projects/new",
        data=form_data(name="", planned_end="2020-01-01", progress="140", department=""),
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in (
        "事業名を入力してください",
        "開始日より前の日付です",
        "0〜100",
        "担当課を選んで",
    ):
        assert message in text
    assert count(session) == before


# --- Editing ----------------------------------------------------------------------------


@pytest.fixture
def bridge(make_project):
    return make_project(
        name="宮地橋 補修", kind="bridge", plan_item_codes=["p5.m13.s1"], description="旧"
    )


def test_staff_edit_a_project(client, session, staff, bridge):
    page = client.get(f"/projects/{bridge.id}/edit")
    assert page.status_code == 200
    data = edit_data(page.get_data(as_text=True), department="土木課", public=None)
    data.pop("public")
    response = client.post(f"/projects/{bridge.id}/edit", data=data)
    assert response.status_code == 302
    session.expire_all()
    assert bridge.department == "土木課" and bridge.is_public is False
    assert bridge.name == "宮地橋 補修" and [i.code for i in bridge.plan_items] == ["p5.m13.s1"]
    row = session.scalars(
        select(ProjectChange).where(
            ProjectChange.project_id == bridge.id, ProjectChange.action == "update"
        )
    ).one()
    assert set(row.changes) == {"department", "public"}
    assert row.changes["department"] == {"old": "建設課", "new": "土木課"}


def test_a_stale_save_is_refused_showing_what_changed(client, session, staff, make_user, bridge):
    page = client.get(f"/projects/{bridge.id}/edit").get_data(as_text=True)
    # Someone else saves while this form is open.
    other = make_user(role="admin", display_name="佐藤")
    update_project(
        session,
        bridge,
        {"name": "宮地橋 耐震補強", "department": "土木課"},
        expected_version=bridge.version,
        user=other,
    )
    session.flush()

    response = client.post(
        f"/projects/{bridge.id}/edit",
        data=edit_data(page, name="宮地橋 補修（改）", description="新しい説明"),
    )
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "保存していません" in text
    conflicts = re.search(r'<table class="conflicts">(.*?)</table>', text, re.S)[1]
    assert (
        "事業名" in conflicts
        and "宮地橋 耐震補強" in conflicts
        and "宮地橋 補修（改）" in conflicts
    )
    assert "担当課" in conflicts and "土木課" in conflicts
    assert "説明" not in conflicts  # only this person changed it
    session.expire_all()
    assert (bridge.name, bridge.description) == ("宮地橋 耐震補強", "旧")

    # The refused form now stands on the stored version: saving it again is deliberate.
    again = client.post(f"/projects/{bridge.id}/edit", data=edit_data(text))
    assert again.status_code == 302
    session.expire_all()
    assert (bridge.name, bridge.description) == ("宮地橋 補修（改）", "新しい説明")


def test_a_refused_geometry_edit_keeps_the_project(client, session, staff, bridge):
    page = client.get(f"/projects/{bridge.id}/edit").get_data(as_text=True)
    response = client.post(
        f"/projects/{bridge.id}/edit",
        data=edit_data(page, geometry="POINT (130.7 32.8)", name="変わってはいけない"),
    )
    assert response.status_code == 400
    session.expire_all()
    assert bridge.name == "宮地橋 補修" and bridge.version == 1


def test_a_form_with_an_impossible_version_is_stale_not_an_error(client, session, staff, bridge):
    page = client.get(f"/projects/{bridge.id}/edit").get_data(as_text=True)
    data = edit_data(page, version=str(10**30), name="変わってはいけない")
    assert client.post(f"/projects/{bridge.id}/edit", data=data).status_code == 409
    session.expire_all()
    assert bridge.name == "宮地橋 補修"


def test_a_completed_project_keeps_its_end_date(client, session, staff, make_project):
    from datetime import date

    done = make_project(status="completed", progress=100, actual_end=date(2025, 3, 31))
    page = client.get(f"/projects/{done.id}/edit").get_data(as_text=True)
    response = client.post(f"/projects/{done.id}/edit", data=edit_data(page, actual_end=""))
    assert response.status_code == 400
    assert "完了日（実績終了日）が必要です" in response.get_data(as_text=True)
    session.expire_all()
    assert done.actual_end == date(2025, 3, 31)


def test_a_new_completed_project_needs_full_progress(client, session, staff):
    before = count(session)
    data = form_data(status="completed", progress="60", actual_end="2025-03-31")
    response = client.post("/projects/new", data=data)
    assert response.status_code == 400
    assert "進捗を100%にしてください" in response.get_data(as_text=True)
    assert count(session) == before


def test_the_edit_form_changes_neither_status_nor_progress(client, staff, bridge):
    text = client.get(f"/projects/{bridge.id}/edit").get_data(as_text=True)
    assert 'name="status"' not in text and 'name="progress"' not in text
    assert "状況報告" in text


# --- Roles and CSRF ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, session, bridge):
    before = count(session)
    for method, url in (
        ("get", "/projects/new"),
        ("post", "/projects/new"),
        ("get", f"/projects/{bridge.id}/edit"),
        ("post", f"/projects/{bridge.id}/edit"),
    ):
        response = getattr(client, method)(url, data=form_data() if method == "post" else None)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    assert count(session) == before


def test_viewers_may_not_create_or_edit(client, session, make_user, login_as, bridge):
    login_as(make_user(role="viewer"))
    before = count(session)
    for method, url in (
        ("get", "/projects/new"),
        ("post", "/projects/new"),
        ("get", f"/projects/{bridge.id}/edit"),
        ("post", f"/projects/{bridge.id}/edit"),
    ):
        response = getattr(client, method)(url, data=form_data() if method == "post" else None)
        assert response.status_code == 403
        assert "閲覧者" in response.get_data(as_text=True)
    assert count(session) == before
    session.expire_all()
    assert bridge.name == "宮地橋 補修"


def test_an_edit_form_posted_without_csrf_token_is_refused(
    csrf_app, session, make_user, login_as, bridge
):
    client = csrf_app.test_client()
    login_as(make_user(role="staff"), client)
    page = client.get(f"/projects/{bridge.id}/edit").get_data(as_text=True)
    data = edit_data(page, name="偽の送信")
    response = client.post(f"/projects/{bridge.id}/edit", data=data)
    assert response.status_code == 400
    session.expire_all()
    assert bridge.name == "宮地橋 補修"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    assert (
        client.post(f"/projects/{bridge.id}/edit", data=data | {"csrf_token": token}).status_code
        == 302
    )


# --- The project page -------------------------------------------------------------------


def test_only_admins_see_the_audit_trail(client, session, make_user, login_as, bridge):
    editor = make_user(role="staff", display_name="田中 一郎", departments=["建設課", "土木課"])
    update_project(
        session, bridge, {"department": "土木課"}, expected_version=bridge.version, user=editor
    )
    session.flush()
    url = f"/projects/{bridge.id}"
    assert "変更履歴（監査）" not in client.get(url).get_data(as_text=True)
    for role in ("viewer", "staff"):
        login_as(make_user(role=role))
        assert "変更履歴（監査）" not in client.get(url).get_data(as_text=True)
    login_as(make_user(role="admin"))
    text = client.get(url).get_data(as_text=True)
    # As read: names and texts are marked lang="ja" (data), so the markup is left out.
    audit = re.sub(r"<[^>]+>", "", text[text.index("変更履歴（監査）") :])
    assert "田中 一郎" in audit and "担当課：建設課 → 土木課" in audit
    assert "システム（データ読込）" in audit  # the fixture created it without a user


def test_the_audit_trail_names_the_plan_items_a_change_linked(
    client, session, make_user, login_as, bridge
):
    update_project(
        session,
        bridge,
        {"plan_items": ["p5.m13.s1", "p1.m2.i1"]},
        expected_version=bridge.version,
        user=make_user(role="staff"),
    )
    session.flush()
    login_as(make_user(role="admin"))
    text = client.get(f"/projects/{bridge.id}").get_data(as_text=True)
    audit = re.sub(r"<[^>]+>", "", text[text.index("変更履歴（監査）") :])
    assert "社会インフラの復旧・機能強化（道路・河川・橋梁）" in audit
    assert "p1.m2.i1" not in audit


@pytest.mark.parametrize(
    "role, sees_link", [(None, False), ("viewer", False), ("staff", True), ("admin", True)]
)
def test_the_edit_link_is_shown_to_editors(client, make_user, login_as, bridge, role, sees_link):
    if role:
        login_as(make_user(role=role))
    text = client.get(f"/projects/{bridge.id}").get_data(as_text=True)
    assert (f"/projects/{bridge.id}/edit" in text) is sees_link


def test_a_line_project_edit_keeps_its_shape(client, session, staff, make_project):
    road = make_project(kind="road", geometry=LineString([(LON, LAT), (LON + 0.003, LAT)]))
    page = client.get(f"/projects/{road.id}/edit").get_data(as_text=True)
    assert client.post(f"/projects/{road.id}/edit", data=edit_data(page)).status_code == 302
    session.expire_all()
    # Sending the form back unchanged is no change: no new version, no audit row.
    assert road.version == 1


# --- In the browser ---------------------------------------------------------------------


def _sign_in(page, live_server, login):
    page.goto(f"{live_server}/login?next=/projects/new")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/projects/new")


def test_drawing_a_point_on_the_map_fills_the_form(
    page, live_server, make_user, session, artifacts_dir
):
    make_user(role="staff", login="tanaka", password=PASSWORD)
    _sign_in(page, live_server, "tanaka")
    page.wait_for_selector(".leaflet-draw-draw-marker")
    page.click(".leaflet-draw-draw-marker")
    box = page.locator(".aso-map--editor").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.querySelector('#geometry').value !== ''")
    geometry = json.loads(page.input_value("#geometry"))
    assert geometry["type"] == "Point"
    assert "地図の図形を入力欄に反映しました" in page.text_content("#geometry-map-status")
    page.fill("#name", "阿蘇大橋 取付道路 点検")
    page.select_option("#kind", "bridge")
    page.select_option("#department", "建設課")
    page.locator("details", has_text="施策13").first.locator("summary").click()
    page.screenshot(path=str(artifacts_dir / "project_new.png"), full_page=False)
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/projects/\d+$"))
    assert page.text_content("h1").strip().startswith("阿蘇大橋 取付道路 点検")
    assert page.errors == []


def test_the_repaired_shape_can_be_taken_from_the_map(
    page, live_server, make_user, session, artifacts_dir
):
    make_user(role="staff", login="tanaka", password=PASSWORD)
    _sign_in(page, live_server, "tanaka")
    page.fill("#name", "坂梨 砂防")
    page.select_option("#kind", "sabo")
    page.select_option("#department", "建設課")
    page.fill("#geometry", BOWTIE_WKT)
    page.click("button.primary")
    page.wait_for_selector("#use-repaired")
    assert "形状が不正です" in page.text_content("[role=alert]")
    page.screenshot(path=str(artifacts_dir / "project_new_repaired.png"), full_page=False)
    page.click("#use-repaired")
    assert json.loads(page.input_value("#geometry"))["type"] == "MultiPolygon"
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/projects/\d+$"))
    assert page.text_content("h1").strip().startswith("坂梨 砂防")
    assert page.errors == []
