"""Withdrawing a work (取り下げ) takes it out of every public answer and restoring brings it
back; deleting is for a work created by mistake. All three are audited."""

import csv
import io
import json
from datetime import timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from shapely.geometry import Point
from sqlalchemy import func, select, text

from tests import test_alerts
from tests.test_alerts import road_near_uchinomaki, send
from tests.test_ogc import decode_tile, get_tile, tile_of
from tests.test_photos import jpeg_with_gps
from tracker.accounts.operations import create_token
from tracker.alerts.models import AlertDelivery
from tracker.core import clock
from tracker.projects.audit import ProjectChange
from tracker.projects.history import append_past_status, append_status
from tracker.projects.models import Project
from tracker.projects.operations import update_project
from tracker.projects.withdrawal import withdraw_project
from tracker.restrictions.operations import add_restriction

# The alerts' own fixtures: a real SMTP server, and confirmed subscriptions.
mail = test_alerts.mail
subscriber = test_alerts.subscriber

HERE = (131.10, 32.90)  # as the feed's tests: a quiet spot inside the city
NAME = "取り下げ予定の橋"


@pytest.fixture
def work(session, make_project):
    """A public, completed bridge counted by an indicator, with a status change and a
    restriction in force: it shows on every public page."""
    project = make_project(
        name=NAME,
        geometry=Point(*HERE),
        status="construction",
        progress=50,
        indicator_codes=["m13_bridges_repaired"],
        plan_item_codes=["p5.m13.s1"],
        created_at=clock.now() - timedelta(days=10),
    )
    append_past_status(
        session,
        project.id,
        status="completed",
        progress=100,
        recorded_at=clock.now() - timedelta(days=2),
    )
    add_restriction(
        session,
        project,
        kind="closed",
        starts_on=clock.today() - timedelta(days=1),
        description="橋の上は通行止め",
    )
    return project


def bridges_counted(client) -> int:
    items = client.get("/api/indicators").get_json()["indicators"]
    return next(i["current"] for i in items if i["code"] == "m13_bridges_repaired")


def where_seen(client, work, tmp_path) -> dict[str, bool]:
    """Ask every public answer whether it shows the work; return {answer: shown}."""
    lon, lat = HERE
    near = {"lat": lat, "lon": lon, "radius": 1000}
    x, y = tile_of(lon, lat, 16)
    tile = decode_tile(get_tile(client, 16, x, y).data, 16, x, y, tmp_path)
    api = client.get("/api/projects").get_json()["features"]
    nearby = client.get("/api/projects/nearby", query_string=near).get_json()
    restrictions = client.get("/api/restrictions").get_json()["features"]
    ogc = client.get("/ogc/collections/projects/items", query_string={"limit": 1000})
    xlsx = load_workbook(io.BytesIO(client.get("/plan/projects.xlsx").data))
    csv_rows = csv.DictReader(
        io.StringIO(client.get("/plan/projects.csv").data.decode("utf-8-sig"))
    )
    seen = {
        "map page": NAME in client.get("/works").get_data(as_text=True),
        "project page": client.get(f"/projects/{work.id}").status_code == 200,
        "api list": work.id in {f["id"] for f in api},
        "api item": client.get(f"/api/projects/{work.id}").status_code == 200,
        "api restrictions": work.id in {f["properties"]["project_id"] for f in restrictions},
        "nearby api": NAME in json.dumps(nearby, ensure_ascii=False),
        "ogc items": work.id in {f["id"] for f in ogc.get_json()["features"]},
        "ogc item": client.get(f"/ogc/collections/projects/items/{work.id}").status_code == 200,
        "tiles": work.id in {f.get("id") for f in tile},
        "near page": NAME in client.get("/near", query_string=near).get_data(as_text=True),
        "feed": NAME in client.get("/near/feed.atom", query_string=near).get_data(as_text=True),
        "meeting map": NAME in client.get("/plan").get_data(as_text=True),
        "csv": NAME in {row.get("事業名") for row in csv_rows},
        "geojson": NAME in client.get("/plan/projects.geojson").get_data(as_text=True),
        "xlsx": NAME in {c.value for row in xlsx.active.iter_rows() for c in row},
        "indicator": bridges_counted(client) == 19,
    }
    return seen


def test_a_withdrawn_work_leaves_every_public_answer_and_comes_back_when_restored(
    app, session, work, make_user, login_as, tmp_path
):
    anonymous = app.test_client()
    assert all(where_seen(anonymous, work, tmp_path).values()), where_seen(
        anonymous, work, tmp_path
    )

    staff = make_user(role="staff")
    client = login_as(staff, app.test_client())
    form = client.get(f"/projects/{work.id}/withdraw")
    assert form.status_code == 200 and 'name="withdrawn_reason"' in form.get_data(as_text=True)
    done = client.post(
        f"/projects/{work.id}/withdraw", data={"withdrawn_reason": "重複して登録していた"}
    )
    assert done.status_code == 303

    seen = where_seen(anonymous, work, tmp_path)
    assert not any(seen.values()), seen
    # Staff and viewers see it in no list or count either; staff open its own page.
    viewer = login_as(make_user(role="viewer"), app.test_client())
    seen_by_viewer = where_seen(viewer, work, tmp_path)
    assert not any(seen_by_viewer.values()), seen_by_viewer
    seen_by_staff = where_seen(client, work, tmp_path)
    assert [k for k, shown in seen_by_staff.items() if shown] == ["project page"]
    page = client.get(f"/projects/{work.id}").get_data(as_text=True)
    assert "重複して登録していた" in page and staff.label in page
    assert f'action="/projects/{work.id}/restore"' in page
    english = client.get(f"/projects/{work.id}?lang=en").get_data(as_text=True)
    assert "This work was withdrawn on" in english and ">Restore<" in english
    listed = client.get("/projects/withdrawn").get_data(as_text=True)
    assert NAME in listed and "重複して登録していた" in listed

    assert client.post(f"/projects/{work.id}/restore").status_code == 303
    seen = where_seen(anonymous, work, tmp_path)
    assert all(seen.values()), seen
    assert NAME not in client.get("/projects/withdrawn").get_data(as_text=True)

    session.expire_all()
    rows = session.execute(
        select(ProjectChange.action, ProjectChange.user_id, ProjectChange.changes)
        .where(ProjectChange.project_id == work.id, ProjectChange.user_id.is_not(None))
        .order_by(ProjectChange.id)
    ).all()
    assert [(r.action, r.user_id) for r in rows] == [
        ("withdraw", staff.id),
        ("restore", staff.id),
    ]
    assert rows[0].changes == {"withdrawn_reason": {"old": None, "new": "重複して登録していた"}}
    # Admins read both in the work's audit trail.
    admin = login_as(make_user(role="admin"), app.test_client())
    audit = admin.get(f"/projects/{work.id}").get_data(as_text=True)
    assert "取り下げ（版" in audit and "元に戻す（版" in audit


def test_the_reason_is_required_and_limited(client, session, make_project, make_user, login_as):
    work = make_project()
    login_as(make_user(role="staff"))
    empty = client.post(f"/projects/{work.id}/withdraw", data={"withdrawn_reason": "  "})
    assert empty.status_code == 400
    assert "取り下げの理由：入力してください" in empty.get_data(as_text=True)
    long = client.post(f"/projects/{work.id}/withdraw", data={"withdrawn_reason": "あ" * 501})
    assert long.status_code == 400
    assert "500文字まで" in long.get_data(as_text=True)
    session.expire_all()
    assert session.get(Project, work.id).withdrawn_at is None


def test_other_departments_and_viewers_may_not_withdraw_or_restore(
    client, session, make_project, make_user, login_as
):
    work = make_project()
    login_as(make_user(role="staff", departments=["農林課"]))
    refused = client.post(f"/projects/{work.id}/withdraw", data={"withdrawn_reason": "誤り"})
    assert refused.status_code == 403
    assert "建設課" in refused.get_data(as_text=True)
    withdraw_project(session, work, reason="誤り", user=make_user(role="admin"))
    assert client.post(f"/projects/{work.id}/restore").status_code == 303
    session.expire_all()
    assert session.get(Project, work.id).withdrawn_at is not None  # the refusal was flashed
    login_as(make_user(role="viewer"))
    assert client.post(f"/projects/{work.id}/restore").status_code == 403
    assert client.get(f"/projects/{work.id}").status_code == 404  # viewers: like anyone


def test_a_withdrawn_work_takes_no_update_edit_or_restriction_until_restored(
    client, session, make_project, make_user, login_as
):
    work = make_project()
    staff = make_user(role="staff")
    withdraw_project(session, work, reason="誤り", user=staff)
    token = {"Authorization": f"Bearer {create_token(session, staff)}"}
    update = client.post(
        f"/api/projects/{work.id}/updates",
        json={"status": "design", "progress": 10},
        headers=token,
    )
    assert update.status_code == 409
    assert update.get_json()["code"] == "withdrawn"
    assert "元に戻して" in update.get_json()["error"]
    etag = f'"p{work.id}-v{work.version}"'
    patch = client.patch(
        f"/api/projects/{work.id}",
        json={"type": "Feature", "properties": {"name": "新しい名前"}},
        headers=token | {"If-Match": etag},
    )
    assert patch.status_code == 409 and patch.get_json()["code"] == "withdrawn"
    login_as(staff)
    form = client.get(f"/staff/projects/{work.id}")
    assert "元に戻して" in form.get_data(as_text=True)
    sent = client.post(f"/staff/projects/{work.id}", data={"status": "design", "progress": "10"})
    assert sent.status_code == 409
    edit = client.get(f"/projects/{work.id}/edit")
    assert edit.status_code == 200 and "元に戻して" in edit.get_data(as_text=True)
    # The restrictions pages, like every list, do not find it.
    assert client.get(f"/projects/{work.id}/restrictions").status_code == 404
    session.expire_all()
    assert session.get(Project, work.id).status == "planned"
    assert session.get(Project, work.id).name == "テスト事業"


# --- Deleting ----------------------------------------------------------------------------------


def _count(session, project_id):
    session.expire_all()
    return session.scalar(select(func.count()).where(Project.id == project_id))


def test_a_work_created_by_mistake_is_deleted_from_the_page_after_confirming(
    client, session, make_project, make_user, login_as
):
    work = make_project(name="誤登録")
    work_id = work.id  # the object is gone once the row is
    staff = make_user(role="staff")
    login_as(staff)
    assert "/delete" in client.get(f"/projects/{work_id}/edit").get_data(as_text=True)
    confirm = client.get(f"/projects/{work_id}/delete")
    assert confirm.status_code == 200 and "元に戻せません" in confirm.get_data(as_text=True)
    assert _count(session, work_id) == 1  # asking deletes nothing
    done = client.post(f"/projects/{work_id}/delete")
    assert done.status_code == 303
    assert _count(session, work_id) == 0
    row = session.scalars(
        select(ProjectChange).where(
            ProjectChange.project_id == work_id, ProjectChange.action == "delete"
        )
    ).one()
    assert row.user_id == staff.id and row.changes["name"]["old"] == "誤登録"
    assert client.get(f"/projects/{work_id}").status_code == 404


@pytest.mark.parametrize("record", ["update", "edit", "restriction", "withdrawal"])
def test_a_work_people_recorded_on_is_not_deleted_but_withdrawal_is_offered(
    client, session, make_project, make_user, login_as, record
):
    work = make_project()
    staff = make_user(role="staff")
    if record == "update":
        append_status(session, work.id, status="design", progress=10, user=staff)
    elif record == "edit":
        update_project(
            session, work, {"name": "直した名前"}, expected_version=work.version, user=staff
        )
    elif record == "restriction":
        add_restriction(
            session,
            work,
            kind="closed",
            starts_on=clock.today(),
            description="通行止め",
            user=staff,
        )
    else:
        withdraw_project(session, work, reason="誤り", user=staff)
    login_as(staff)
    page = client.get(f"/projects/{work.id}/delete").get_data(as_text=True)
    assert "取り下げてください" in page and "/withdraw" in page
    refused = client.post(f"/projects/{work.id}/delete")
    assert refused.status_code == 409
    assert "取り下げてください" in refused.get_data(as_text=True)
    assert _count(session, work.id) == 1


def test_a_photo_keeps_a_work_from_being_deleted(client, session, make_project, make_user):
    work = make_project()
    staff = make_user(role="staff")
    token = {"Authorization": f"Bearer {create_token(session, staff)}"}
    sent = client.post(
        f"/api/projects/{work.id}/updates",
        data={
            "status": "design",
            "progress": "5",
            "photos": [(io.BytesIO(jpeg_with_gps()), "site.jpg")],
        },
        headers=token,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    url = f"/api/projects/{work.id}"
    refused = client.delete(url, headers=token | {"If-Match": client.get(url).headers["ETag"]})
    assert refused.status_code == 409 and refused.get_json()["code"] == "has_records"
    # Withdrawn instead: its photos are no longer served to anyone but staff and admins.
    session.refresh(work)  # the API moved its version
    withdraw_project(session, work, reason="誤り", user=staff)
    display = sent.get_json()["photos"][0]["display_url"]
    assert client.get(display).status_code == 404
    assert client.get(display, headers=token).status_code == 200


def test_delete_api_needs_the_current_etag_and_the_department(
    client, session, make_project, make_user
):
    work = make_project()
    work_id = work.id  # the object is gone once the row is
    staff = {"Authorization": f"Bearer {create_token(session, make_user(role='staff'))}"}
    other = make_user(role="staff", departments=["農林課"])
    other_token = {"Authorization": f"Bearer {create_token(session, other)}"}
    url = f"/api/projects/{work_id}"
    etag = client.get(url).headers["ETag"]

    assert client.delete(url, headers=staff).status_code == 428
    assert client.delete(url, headers=staff | {"If-Match": "*"}).status_code == 428
    forbidden = client.delete(url, headers=other_token | {"If-Match": etag})
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "other_department"
    stale = client.delete(url, headers=staff | {"If-Match": f'"p{work_id}-v{work.version - 1}"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == etag
    assert _count(session, work_id) == 1

    done = client.delete(url, headers=staff | {"If-Match": etag})
    assert done.status_code == 204 and done.data == b""
    assert _count(session, work_id) == 0
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=staff | {"If-Match": etag}).status_code == 404


def test_delete_api_refuses_a_work_with_records_in_words(client, session, make_project, make_user):
    work = make_project()
    staff_user = make_user(role="staff")
    staff = {"Authorization": f"Bearer {create_token(session, staff_user)}"}
    append_status(session, work.id, status="design", progress=10, user=staff_user)
    url = f"/api/projects/{work.id}"
    refused = client.delete(url, headers=staff | {"If-Match": client.get(url).headers["ETag"]})
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "has_records" and "取り下げ" in body["error"]
    english = client.delete(
        url + "?lang=en", headers=staff | {"If-Match": client.get(url).headers["ETag"]}
    )
    assert "withdraw it" in english.get_json()["error"]
    assert _count(session, work.id) == 1


def test_a_withdrawn_work_is_not_found_by_the_api_for_anyone(
    client, session, make_project, make_user
):
    work = make_project()
    staff = make_user(role="staff")
    withdraw_project(session, work, reason="誤り", user=staff)
    token = {"Authorization": f"Bearer {create_token(session, staff)}"}
    assert client.get(f"/api/projects/{work.id}").status_code == 404
    assert client.get(f"/api/projects/{work.id}", headers=token).status_code == 404
    assert client.get(f"/api/projects/{work.id}/updates").status_code == 404
    assert work.id not in {
        f["id"] for f in client.get("/api/projects", headers=token).get_json()["features"]
    }


def test_the_withdrawal_is_dated_by_the_app_clock(session, make_project, make_user):
    work = make_project()
    instant = clock.now() + timedelta(days=3)
    with time_machine.travel(instant, tick=False):
        withdraw_project(session, work, reason="誤り", user=make_user(role="admin"))
    session.expire_all()
    assert session.get(Project, work.id).withdrawn_at == instant


# --- Alerts ------------------------------------------------------------------------------------


def test_a_withdrawn_work_sends_no_alert_and_one_waiting_is_dropped(
    app, session, mail, subscriber, make_project, make_user
):
    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    subscriber("watch@example.jp", frequency="daily")
    add_restriction(session, road, kind="closed", starts_on=clock.today(), description="通行止め")
    send(app)  # matched, waiting for the morning
    withdraw_project(session, road, reason="誤り", user=make_user(role="admin"))
    session.execute(
        text("UPDATE alert_deliveries SET due_at = :now WHERE kind = 'alert'"),
        {"now": clock.now()},
    )
    send(app)
    assert mail.messages == []
    assert session.scalar(select(AlertDelivery.status).where(AlertDelivery.kind == "alert")) == (
        "cancelled"
    )
    # A change queued before the work was withdrawn is matched to nobody.
    other = make_project(name="市道内牧2号線", kind="road", geometry=road_near_uchinomaki(400))
    subscriber("immediate@example.jp", frequency="immediate")
    add_restriction(session, other, kind="closed", starts_on=clock.today(), description="通行止め")
    withdraw_project(session, other, reason="誤り", user=None)
    send(app)
    assert mail.messages == []
    assert session.scalar(select(func.count()).where(AlertDelivery.kind == "alert")) == 1
