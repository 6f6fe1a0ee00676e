"""Departments decide who may change which works: staff change the works of their own
departments (担当課), admins all, viewers none; refused 403 with words on the pages, in the
API and in the import, with nothing written. Reads are unchanged."""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import MIYAJI_STATION
from tracker.accounts.models import Department
from tracker.accounts.operations import create_token
from tracker.core import clock
from tracker.projects.departments import OtherDepartment
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project
from tracker.projects.operations import update_project
from tracker.restrictions.models import TrafficRestriction

LON, LAT = MIYAJI_STATION
REFUSAL = "この工事の担当課は「建設課」です。変更できるのは建設課の職員と管理者です"


@pytest.fixture
def works(make_project):
    """A work of 建設課 and one of 農林課."""
    return {
        "建設課": make_project(name="宮地橋 補修", external_id="K-1"),
        "農林課": make_project(name="坂梨 林道", kind="road", department="農林課"),
    }


@pytest.fixture
def farmer(make_user):
    """A staff member of 農林課 only."""
    return make_user(role="staff", display_name="農林 花子", departments=["農林課"])


def bearer(session, user):
    return {"Authorization": f"Bearer {create_token(session, user)}"}


def updates_of(session, project):
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(StatusUpdate).where(StatusUpdate.project_id == project.id)
    )


def etag(client, project):
    return client.get(f"/api/projects/{project.id}").headers["ETag"]


# --- The staff page ---------------------------------------------------------------------


def test_the_staff_page_refuses_a_work_of_another_department_with_words(
    client, session, works, farmer, login_as
):
    login_as(farmer)
    work = works["建設課"]
    before = updates_of(session, work)
    url = f"/staff/projects/{work.id}"
    # The form says at once who may update the work.
    assert REFUSAL in client.get(url).text

    sent = client.post(url, data={"status": "design", "progress": "10", "note": "設計着手"})

    assert sent.status_code == 403
    assert REFUSAL in sent.text and "あなたの担当課：農林課" in sent.text
    assert updates_of(session, work) == before
    assert (work.status, work.progress) == ("planned", 0)


def test_the_staff_page_records_a_work_of_ones_own_department(
    client, session, works, farmer, login_as
):
    login_as(farmer)
    work = works["農林課"]
    before = updates_of(session, work)
    url = f"/staff/projects/{work.id}"
    assert "担当課は" not in client.get(url).text

    sent = client.post(url, data={"status": "design", "progress": "10"})

    assert sent.status_code == 303
    assert updates_of(session, work) == before + 1
    assert work.status == "design"


def test_the_refusal_speaks_the_readers_language(client, works, farmer, login_as):
    login_as(farmer)
    sent = client.post(
        f"/staff/projects/{works['建設課'].id}?lang=en", data={"status": "design", "progress": "10"}
    )
    assert sent.status_code == 403
    assert "Only staff of 建設課 and administrators can change it" in sent.text
    assert "変更できるのは" not in sent.text


# --- The API ----------------------------------------------------------------------------


def test_the_api_refuses_an_update_of_another_departments_work(client, session, works, farmer):
    work = works["建設課"]
    before = updates_of(session, work)

    sent = client.post(
        f"/api/projects/{work.id}/updates",
        json={"status": "design", "progress": 10},
        headers=bearer(session, farmer),
    )

    assert sent.status_code == 403
    body = sent.get_json()
    assert body["code"] == "other_department" and body["department"] == "建設課"
    assert REFUSAL in body["error"] and body["message"] == body["error"]
    assert updates_of(session, work) == before


def test_the_api_refuses_an_edit_and_a_creation_for_another_department(
    client, session, works, farmer
):
    work = works["建設課"]
    headers = bearer(session, farmer)
    edited = client.patch(
        f"/api/projects/{work.id}",
        json={"properties": {"name": "別の名前"}},
        headers=headers | {"If-Match": etag(client, work)},
    )
    assert edited.status_code == 403
    assert edited.get_json()["code"] == "other_department"
    assert REFUSAL in edited.get_json()["error"]

    count = session.scalar(select(func.count()).select_from(Project))
    created = client.post(
        "/api/projects",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [LON, LAT]},
            "properties": {"name": "新しい橋", "kind": "bridge", "department": "建設課"},
        },
        headers=headers,
    )
    assert created.status_code == 403 and created.get_json()["department"] == "建設課"
    session.expire_all()
    assert work.name == "宮地橋 補修" and work.version == 1
    assert session.scalar(select(func.count()).select_from(Project)) == count


def test_the_same_person_updates_their_departments_work(client, session, works, farmer):
    sent = client.post(
        f"/api/projects/{works['農林課'].id}/updates",
        json={"status": "design", "progress": 10},
        headers=bearer(session, farmer),
    )
    assert sent.status_code == 201


def test_an_admin_updates_every_departments_work(client, session, works, make_user):
    headers = bearer(session, make_user(role="admin"))
    for work in works.values():
        sent = client.post(
            f"/api/projects/{work.id}/updates",
            json={"status": "design", "progress": 10},
            headers=headers,
        )
        assert sent.status_code == 201, sent.get_json()


def test_a_viewer_gets_the_role_refusal(client, session, works, make_user):
    sent = client.post(
        f"/api/projects/{works['建設課'].id}/updates",
        json={"status": "design", "progress": 10},
        headers=bearer(session, make_user(role="viewer")),
    )
    assert sent.status_code == 403
    body = sent.get_json()
    assert body["code"] == "forbidden" and "閲覧者" in body["error"]


def test_reads_are_not_limited_by_department(client, session, works, farmer, login_as):
    headers = bearer(session, farmer)
    work = works["建設課"]
    assert client.get(f"/api/projects/{work.id}", headers=headers).status_code == 200
    assert client.get(f"/api/projects/{work.id}/updates", headers=headers).status_code == 200
    login_as(farmer)
    assert client.get(f"/projects/{work.id}").status_code == 200


def test_the_contract_documents_the_refusal(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path, method in (
        ("/api/projects", "post"),
        ("/api/projects/{project_id}", "patch"),
        ("/api/projects/{project_id}/updates", "post"),
    ):
        answer = paths[path][method]["responses"]["403"]
        schema = answer["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ChangeRefused"), (path, schema)


# --- Moving a work between departments --------------------------------------------------


def test_moving_a_work_needs_both_departments(client, session, works, make_user):
    work = works["建設課"]

    def move(user, department):
        return client.patch(
            f"/api/projects/{work.id}",
            json={"properties": {"department": department}},
            headers=bearer(session, user) | {"If-Match": etag(client, work)},
        )

    # Only the old department: may not give the work to 農林課.
    builder = make_user(role="staff", departments=["建設課"])
    refused = move(builder, "農林課")
    assert refused.status_code == 403 and refused.get_json()["department"] == "農林課"
    # Only the new one: may not take a work of 建設課.
    farmer = make_user(role="staff", departments=["農林課"])
    refused = move(farmer, "農林課")
    assert refused.status_code == 403 and refused.get_json()["department"] == "建設課"
    session.expire_all()
    assert work.department == "建設課"

    both = make_user(role="staff", departments=["建設課", "農林課"])
    assert move(both, "農林課").status_code == 200
    session.expire_all()
    assert work.department == "農林課"
    # An admin moves it anywhere, and edits a work whose department is not in the table.
    admin = make_user(role="admin")
    assert move(admin, "旧 土木課").status_code == 200
    renamed = client.patch(
        f"/api/projects/{work.id}",
        json={"properties": {"name": "旧課の橋"}},
        headers=bearer(session, admin) | {"If-Match": etag(client, work)},
    )
    assert renamed.status_code == 200
    session.expire_all()
    assert (work.department, work.name) == ("旧 土木課", "旧課の橋")


def test_an_operation_refuses_without_a_view(session, works, farmer):
    work = works["建設課"]
    with pytest.raises(OtherDepartment) as refused:
        update_project(session, work, {"name": "x"}, expected_version=work.version, user=farmer)
    assert refused.value.status == 403 and refused.value.department == "建設課"
    # The command line and the loaders act for the city.
    update_project(session, work, {"name": "市の変更"}, expected_version=work.version, user=None)
    assert work.name == "市の変更"


# --- The project form -------------------------------------------------------------------


def _offered(page):
    select_html = re.search(r'<select id="department".*?</select>', page, re.S).group(0)
    return re.findall(r'value="([^"]+)"', select_html)


def test_the_project_form_offers_only_ones_departments(client, session, make_user, login_as):
    session.add(Department(name="まちづくり課"))
    session.flush()
    login_as(make_user(role="staff", departments=["農林課", "建設課"]))
    assert set(_offered(client.get("/projects/new").text)) == {"建設課", "農林課"}

    login_as(make_user(role="admin"))
    every = session.scalars(select(Department.name).order_by(Department.name)).all()
    assert _offered(client.get("/projects/new").text) == every
    assert "まちづくり課" in every


def test_the_project_form_refuses_another_department_with_words(
    client, session, works, farmer, login_as
):
    login_as(farmer)
    count = session.scalar(select(func.count()).select_from(Project))
    form = {
        "name": "新しい橋",
        "kind": "bridge",
        "status": "planned",
        "progress": "0",
        "department": "建設課",
        "geometry": f"POINT ({LON} {LAT})",
    }
    created = client.post("/projects/new", data=form)
    assert created.status_code == 403 and REFUSAL in created.text
    assert session.scalar(select(func.count()).select_from(Project)) == count
    assert client.post("/projects/new", data=form | {"department": "農林課"}).status_code == 302

    # The edit page of another department's work says so, and saving is refused.
    work = works["建設課"]
    edit = client.get(f"/projects/{work.id}/edit")
    assert edit.status_code == 200 and REFUSAL in edit.text
    assert _offered(edit.text) == ["建設課", "農林課"]
    version = re.search(r'name="version"[^>]*value="(\d+)"', edit.text).group(1)
    saved = client.post(
        f"/projects/{work.id}/edit", data=form | {"name": "変えた名前", "version": version}
    )
    assert saved.status_code == 403 and REFUSAL in saved.text
    session.expire_all()
    assert work.name == "宮地橋 補修"


# --- Traffic restrictions ---------------------------------------------------------------


def test_restrictions_of_another_departments_work_are_refused(
    client, session, works, farmer, login_as
):
    login_as(farmer)
    form = {
        "kind": "closed",
        "starts_on": clock.today().isoformat(),
        "ends_on": (clock.today() + timedelta(days=5)).isoformat(),
        "days": "every_day",
        "description": "通行止め",
    }
    refused = client.post(f"/projects/{works['建設課'].id}/restrictions", data=form)
    assert refused.status_code == 403 and REFUSAL in refused.text
    added = client.post(f"/projects/{works['農林課'].id}/restrictions", data=form)
    assert added.status_code == 303
    session.expire_all()
    projects = session.scalars(select(TrafficRestriction.project_id)).all()
    assert projects == [works["農林課"].id]


# --- The import -------------------------------------------------------------------------

HEADER = "事業番号,事業名,種別,状況,進捗率,担当課,緯度,経度"


def upload(app, client, rows, **form):
    """Post the file, run the import worker over the job, and return the job's page."""
    data = "\r\n".join([HEADER, *rows]).encode()
    queued = client.post(
        "/projects/import",
        data={"file": (io.BytesIO(data), "works.csv"), **form},
        content_type="multipart/form-data",
    )
    assert queued.status_code == 303
    assert app.test_cli_runner().invoke(args=["run-import-jobs", "--once"]).exit_code == 0
    return client.get(queued.headers["Location"])


def test_the_import_refuses_rows_of_another_department_and_writes_nothing(
    app, client, session, works, farmer, login_as
):
    login_as(farmer)
    rows = [
        "K-1,宮地橋 補修,橋梁,工事中,30,建設課,32.937,131.11879",  # a status update
        "N-1,新しい橋,橋梁,未着手,0,建設課,32.937,131.11879",  # a new work of 建設課
        "N-2,新しい林道,橋梁,未着手,0,農林課,32.937,131.11879",  # one the person may add
    ]
    count = session.scalar(select(func.count()).select_from(Project))

    checked = upload(app, client, rows, action="check")
    page = checked.text
    assert checked.status_code == 403
    assert page.count(REFUSAL) == 2  # each refused row, with the words

    imported = upload(app, client, rows, action="import")
    assert imported.status_code == 403
    assert imported.text.count(REFUSAL) == 2 and "何も書き込んでいません" in imported.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Project)) == count
    assert works["建設課"].status == "planned" and updates_of(session, works["建設課"]) == 1

    # Without the other department's rows, the same person's import goes through.
    done = upload(app, client, rows[2:], action="import")
    assert done.status_code == 200 and "取り込みました" in done.text


# --- Loading ----------------------------------------------------------------------------


def test_loaded_works_departments_are_in_the_table(session):
    from shapely.geometry import Point

    from tracker.projects.demo import add_demo_projects
    from tracker.projects.operations import create_project
    from tracker.wiring.loaders import load_departments

    create_project(
        session, name="駅前広場", kind="bridge", department="まちづくり課", geometry=Point(LON, LAT)
    )
    assert "まちづくり課" in load_departments(session)
    assert load_departments(session) == "departments: up to date"
    add_demo_projects(session, 50, seed=3)
    names = set(session.scalars(select(Department.name)))
    assert {"まちづくり課", "建設課", "農林整備課", "防災情報室"} <= names
    # Every department a work names can be given to people.
    named = set(session.scalars(select(Project.department).distinct()))
    assert named <= names


# --- In the browser ---------------------------------------------------------------------


def test_the_phone_form_shows_the_refusal_and_keeps_nothing(
    live_server, page, session, client, login_as, works, farmer
):
    from playwright.sync_api import expect

    from tests.test_staff_browser import PHONE, sign_in

    work = works["建設課"]
    before = updates_of(session, work)
    sign_in(page, live_server, client, login_as, farmer)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/staff/projects/{work.id}")
    message = page.locator("#form-message")
    expect(message).to_contain_text(REFUSAL)

    page.get_by_label("設計中").check()
    page.locator("#progress").fill("10")
    page.get_by_label("メモ").fill("担当外の記録")
    api = f"/api/projects/{work.id}/updates"
    with page.expect_response(lambda r: r.url.endswith(api)) as sent:
        page.get_by_role("button", name="記録する").click()
    # Sent through the API and refused there: the form says why and keeps what was typed.
    assert sent.value.status == 403
    expect(message).to_have_text(re.compile(REFUSAL))
    expect(message).to_have_class(re.compile(r"\bbad\b"))
    expect(page.get_by_label("メモ")).to_have_value("担当外の記録")
    assert updates_of(session, work) == before
    assert page.errors == []
