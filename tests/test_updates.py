"""Status updates: the transition table, append-only history, the API, idempotent
client_id, concurrent senders and the staff pages."""

import json
import re
import secrets
import threading
import uuid
from datetime import date

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.conftest import MIYAJI_STATION, UCHINOMAKI_STATION
from tracker import create_app
from tracker.accounts.access import hash_token
from tracker.accounts.models import ApiToken, Department, User
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.projects.history import TRANSITIONS, StatusUpdate, allowed_next, append_status
from tracker.projects.models import Project
from tracker.projects.operations import create_project
from tracker.updates.views import assets_version


def history(session, project):
    """Return (previous_status, status, progress) of every entry, oldest first."""
    return session.execute(
        select(StatusUpdate.previous_status, StatusUpdate.status, StatusUpdate.progress)
        .where(StatusUpdate.project_id == project.id)
        .order_by(StatusUpdate.id)
    ).all()


def delete_rows(connection, table: str, row_id: int) -> None:
    """Delete a row and whatever refers to it without ON DELETE CASCADE (other features' logs)."""
    references = connection.execute(
        text(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.confrelid = CAST(:table AS regclass) "
            "AND c.confdeltype <> 'c' AND c.conrelid <> 'status_updates'::regclass"
        ),
        {"table": table},
    ).all()
    for referrer, column in references:
        connection.execute(text(f'DELETE FROM {referrer} WHERE "{column}" = :id'), {"id": row_id})
    connection.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row_id})


def bearer(session, user) -> dict:
    """Give a user an API token and return the header that sends it."""
    token = secrets.token_urlsafe(24)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    return {"Authorization": f"Bearer {token}"}


# --- the operation and the transition table -------------------------------------------


def test_an_update_is_appended_and_becomes_the_current_status(session, make_project, make_user):
    project = make_project()
    staff = make_user("staff", display_name="阿蘇 太郎")

    update = append_status(
        session,
        project.id,
        user=staff,
        status="design",
        progress=10,
        note="測量完了",
        position=(131.119, 32.937),
    )

    assert (project.status, project.progress) == ("design", 10)
    assert history(session, project) == [(None, "planned", 0), ("planned", "design", 10)]
    assert update.author.display_name == "阿蘇 太郎"
    assert update.note == "測量完了"
    assert update.recorded_at is not None


def test_moving_into_construction_sets_the_actual_start(session, make_project, make_user):
    project = make_project()
    append_status(session, project.id, user=make_user(), status="construction", progress=5)
    assert project.actual_start == clock.today()


@pytest.mark.parametrize(
    ("start", "status", "progress", "note", "field", "words"),
    [
        ("planned", "completed", 100, "", "status", "「未着手」から「完了」には変更できません"),
        ("design", "completed", 100, "", "status", "「設計中」から「完了」には変更できません"),
        ("construction", "completed", 90, "", "progress", "進捗を100%"),
        ("construction", "suspended", 40, "", "note", "理由"),
        ("construction", "construction", 20, "", "note", "進捗を下げる"),
        ("completed", "construction", 100, "", "note", "再開"),
        ("completed", "design", 100, "漏水", "status", "「完了」から「設計中」には変更できません"),
        ("planned", "unknown", 0, "", "status", "不明な状況"),
    ],
)
def test_a_refused_change_says_why(
    session, make_project, make_user, start, status, progress, note, field, words
):
    project = make_project(
        status=start,
        progress={"construction": 40, "completed": 100}.get(start, 0),
        actual_start=date(2023, 4, 1) if start in ("construction", "completed") else None,
        actual_end=date(2024, 3, 1) if start == "completed" else None,
    )
    before = history(session, project)

    with pytest.raises(BadInput) as refused:
        append_status(
            session, project.id, user=make_user(), status=status, progress=progress, note=note
        )

    assert str(refused.value).startswith(f"{field}: ")
    assert words in str(refused.value)
    assert history(session, project) == before
    assert project.status == start


def test_completion_needs_an_end_date_and_takes_today_when_none_is_given(
    session, make_project, make_user
):
    project = make_project(status="construction", progress=90, actual_start=date(2024, 5, 1))
    append_status(session, project.id, user=make_user(), status="completed", progress=100)
    assert project.actual_end == clock.today()

    other = make_project(status="construction", progress=90, actual_start=date(2024, 5, 1))
    with pytest.raises(BadInput, match="actual_end: "):
        append_status(
            session,
            other.id,
            user=make_user(),
            status="completed",
            progress=100,
            actual_end=date(2024, 4, 1),
        )


def test_reopening_a_completed_project_with_a_reason_clears_its_end(
    session, make_project, make_user
):
    project = make_project(
        status="completed", progress=100, actual_start=date(2023, 4, 1), actual_end=date(2024, 3, 1)
    )
    append_status(
        session,
        project.id,
        user=make_user(),
        status="construction",
        progress=100,
        note="護岸の一部に変状、補修工事",
    )
    assert (project.status, project.actual_end) == ("construction", None)
    assert history(session, project)[-1] == ("completed", "construction", 100)


def test_every_status_can_stay_put_and_the_form_offers_only_allowed_changes():
    for status, targets in TRANSITIONS.items():
        assert status in targets
        assert set(allowed_next(status)) == targets
    assert "completed" not in allowed_next("planned")


# --- history cannot be rewritten ------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE status_updates SET note = 'rewritten' WHERE project_id = :id",
        "DELETE FROM status_updates WHERE project_id = :id",
    ],
)
def test_the_database_refuses_to_change_or_delete_history(session, make_project, statement):
    project = make_project()
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement), {"id": project.id})
    assert history(session, project) == [(None, "planned", 0)]


def test_deleting_a_whole_project_still_takes_its_history_with_it(session, make_project):
    project = make_project()
    project_id = project.id
    delete_rows(session.connection(), "projects", project_id)
    count = select(func.count()).where(StatusUpdate.project_id == project_id)
    assert session.scalar(count.select_from(StatusUpdate)) == 0


# --- the API ----------------------------------------------------------------------------


def test_post_an_update_answers_201_with_it(client, session, make_project, make_user):
    project = make_project()
    staff = make_user("staff", display_name="現場 花子")
    response = client.post(
        f"/api/projects/{project.id}/updates",
        json={
            "status": "construction",
            "progress": 15,
            "note": "仮設道路の設置",
            "client_id": str(uuid.uuid4()),
            "position": {"lat": 32.9371, "lon": 131.1189},
        },
        headers=bearer(session, staff),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "construction"
    assert body["previous_status"] == "planned"
    assert body["progress"] == 15
    assert body["author"]["name"] == "現場 花子"
    assert body["position"] == {"lat": 32.9371, "lon": 131.1189}
    assert history(session, project)[-1] == ("planned", "construction", 15)


def test_who_may_post(client, session, make_project, make_user, login_as):
    project = make_project()
    url = f"/api/projects/{project.id}/updates"
    payload = {"status": "design", "progress": 5}

    assert client.post(url, json=payload).status_code == 401
    viewer = make_user("viewer")
    assert client.post(url, json=payload, headers=bearer(session, viewer)).status_code == 403
    login_as(viewer)
    assert client.post(url, json=payload).status_code == 403
    login_as(make_user("admin"))
    assert client.post(url, json=payload).status_code == 201
    assert [row.status for row in history(session, project)] == ["planned", "design"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"progress": 5}, "status"),
        ({"status": "design"}, "progress"),
        ({"status": "design", "progress": 101}, "progress"),
        ({"status": "design", "progress": "5"}, "progress"),
        ({"status": "design", "progress": 5, "client_id": "not-a-uuid"}, "client_id"),
        ({"status": "design", "progress": 5, "position": {"lat": 95, "lon": 131}}, "position"),
        ({"status": "design", "progress": 5, "position": [131, 32]}, "position"),
        ({"status": "design", "progress": 5, "note": 7}, "note"),
        ({"status": "design", "progress": 5, "note": "型枠\x00完了"}, "note"),
        ({"status": "design", "progress": 5, "actual_end": "2024-02-30"}, "actual_end"),
        ({"status": "completed", "progress": 100}, "status"),
    ],
)
def test_invalid_fields_answer_400_naming_the_field(
    client, session, make_project, make_user, payload, field
):
    project = make_project()
    response = client.post(
        f"/api/projects/{project.id}/updates", json=payload, headers=bearer(session, make_user())
    )
    assert response.status_code == 400
    assert response.json["error"].startswith(f"{field}: ")
    assert len(history(session, project)) == 1


def test_unknown_project_is_404(client, session, make_user):
    response = client.post(
        "/api/projects/999999/updates",
        json={"status": "design", "progress": 1},
        headers=bearer(session, make_user()),
    )
    assert response.status_code == 404
    assert "error" in response.json


def test_the_same_client_id_twice_records_once_and_answers_with_it_both_times(
    client, session, make_project, make_user
):
    project = make_project()
    headers = bearer(session, make_user())
    payload = {
        "status": "design",
        "progress": 20,
        "note": "一度だけ",
        "client_id": str(uuid.uuid4()),
    }
    url = f"/api/projects/{project.id}/updates"

    first = client.post(url, json=payload, headers=headers)
    second = client.post(url, json=payload, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert [row.status for row in history(session, project)] == ["planned", "design"]


def test_a_client_id_cannot_be_reused_for_another_project(client, session, make_project, make_user):
    headers = bearer(session, make_user())
    client_id = str(uuid.uuid4())
    one, two = make_project(), make_project()
    payload = {"status": "design", "progress": 1, "client_id": client_id}
    assert (
        client.post(f"/api/projects/{one.id}/updates", json=payload, headers=headers).status_code
        == 201
    )
    response = client.post(f"/api/projects/{two.id}/updates", json=payload, headers=headers)
    assert response.status_code == 400
    assert response.json["error"].startswith("client_id: ")


def test_history_lists_oldest_first_and_hides_internal_fields_from_anonymous_callers(
    client, session, make_project, make_user, login_as
):
    project = make_project()
    staff = make_user(display_name="記録 係")
    append_status(session, project.id, user=staff, status="design", progress=10, note="内部メモ")
    append_status(session, project.id, user=staff, status="construction", progress=30)

    public = client.get(f"/api/projects/{project.id}/updates").json["updates"]
    assert [(u["status"], u["progress"]) for u in public] == [
        ("planned", 0),
        ("design", 10),
        ("construction", 30),
    ]
    assert set(public[1]) == {
        "observed_at",
        "recorded_at",
        "previous_status",
        "status",
        "progress",
    }
    assert "内部メモ" not in client.get(f"/api/projects/{project.id}/updates").text

    login_as(make_user("viewer"))
    full = client.get(f"/api/projects/{project.id}/updates").json["updates"]
    assert full[1]["note"] == "内部メモ"
    assert full[1]["author"]["name"] == "記録 係"
    assert full[0]["author"] is None  # the registration entry is the system's


def test_history_of_a_staff_only_project_is_hidden_from_anonymous_callers(
    client, make_project, make_user, login_as
):
    project = make_project(is_public=False)
    assert client.get(f"/api/projects/{project.id}/updates").status_code == 404
    login_as(make_user("viewer"))
    assert client.get(f"/api/projects/{project.id}/updates").status_code == 200


# --- several people at once, on a committed database ----------------------------------


@pytest.fixture
def committed(engine, database_url, tmp_path):
    """A project, a staff user with a token, and an app on a real pool, all committed.

    Concurrency needs separate connections that see each other's commits, which the
    rolled-back per-test transaction cannot give; everything is deleted afterwards.
    """
    token = secrets.token_urlsafe(24)
    with Session(engine) as s:
        department = s.scalar(select(Department).where(Department.name == "建設課"))
        made_department = department is None
        if made_department:
            department = Department(name="建設課")
        user = User(
            login=f"field-{uuid.uuid4().hex[:8]}",
            role="staff",
            password_hash="!",
            departments=[department],
        )
        s.add(user)
        s.flush()
        s.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
        project = create_project(
            s,
            name="同時更新テスト橋",
            kind="bridge",
            department="建設課",
            geometry=Point(*MIYAJI_STATION),
        )
        s.commit()
        ids = {"user": user.id, "project": project.id, "department": department.id}
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    yield app, ids, {"Authorization": f"Bearer {token}"}
    app.extensions["db_engine"].dispose()
    with Session(engine) as s:
        # The project first: its history goes with it, then nothing refers to the user.
        delete_rows(s.connection(), "projects", ids["project"])
        delete_rows(s.connection(), "users", ids["user"])
        if made_department:
            delete_rows(s.connection(), "departments", ids["department"])
        s.commit()


def post_at_once(app, url, headers, payloads):
    """POST every payload from its own thread, released together; return the responses."""
    barrier = threading.Barrier(len(payloads))
    responses = [None] * len(payloads)

    def send(i):
        client = app.test_client()
        barrier.wait()
        responses[i] = client.post(url, json=payloads[i], headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_updates_sent_at_the_same_moment_all_land_in_order(committed, engine):
    app, ids, headers = committed
    # Any order of these is allowed, so every update must land whichever comes first.
    statuses = ["design", "suspended"] * 4
    payloads = [
        {"status": status, "progress": 10 + i, "note": f"同時 {i}"}
        for i, status in enumerate(statuses)
    ]

    responses = post_at_once(app, f"/api/projects/{ids['project']}/updates", headers, payloads)

    assert [r.status_code for r in responses] == [201] * len(payloads), [r.json for r in responses]
    with Session(engine) as s:
        rows = s.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.project_id == ids["project"])
            .order_by(StatusUpdate.id)
        ).all()
        project = s.get(Project, ids["project"])
        assert sorted(r.note for r in rows[1:]) == sorted(p["note"] for p in payloads)
        # Each entry saw the one before it: the chain of statuses has no gap.
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.previous_status == before.status
            assert after.recorded_at >= before.recorded_at
        assert (project.status, project.progress) == (rows[-1].status, rows[-1].progress)


def test_the_same_client_id_sent_at_once_records_one_update(committed, engine):
    app, ids, headers = committed
    payload = {"status": "design", "progress": 5, "client_id": str(uuid.uuid4())}

    responses = post_at_once(app, f"/api/projects/{ids['project']}/updates", headers, [payload] * 4)

    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json["id"] for r in responses}) == 1
    with Session(engine) as s:
        count = s.scalar(
            select(func.count())
            .select_from(StatusUpdate)
            .where(StatusUpdate.project_id == ids["project"])
        )
    assert count == 2  # registration + one update


# --- the staff pages --------------------------------------------------------------------


def test_staff_pages_are_for_staff_only(client, make_user, login_as, make_project):
    project = make_project()
    assert client.get("/staff/").status_code == 302
    login_as(make_user("viewer"))
    assert client.get("/staff/").status_code == 403
    assert client.get(f"/staff/projects/{project.id}").status_code == 403
    login_as(make_user("staff"))
    page = client.get(f"/staff/projects/{project.id}")
    assert page.status_code == 200
    assert "記録する" in page.text


def test_projects_near_me_come_nearest_first(client, make_user, login_as, make_project):
    near = make_project(name="宮地駅前橋")
    far = make_project(name="内牧温泉橋", geometry=Point(*UCHINOMAKI_STATION))
    login_as(make_user())
    lon, lat = MIYAJI_STATION
    found = client.get(f"/staff/nearby.json?lat={lat + 0.001}&lon={lon}").json["projects"]
    assert found[0]["name"] == near.name
    assert 100 < found[0]["distance_m"] < 120  # 0.001° of latitude
    assert found[0]["url"] == f"/staff/projects/{near.id}"
    distances = [p["distance_m"] for p in found]
    assert distances == sorted(distances)

    bridges = client.get(f"/staff/nearby.json?q=橋&lat={lat}&lon={lon}").json["projects"]
    assert [p["name"] for p in bridges] == [near.name, far.name]
    by_name = client.get("/staff/nearby.json?q=内牧温泉").json["projects"]
    assert [p["name"] for p in by_name] == ["内牧温泉橋"]
    assert client.get("/staff/nearby.json").status_code == 400
    for lat, lon in (("nan", "131"), ("33", "inf"), ("95", "131")):
        response = client.get(
            f"/staff/nearby.json?lat={lat}&lon={lon}", headers={"Accept": "application/json"}
        )
        assert response.status_code == 400 and response.json["error"].startswith("lat: ")


def test_the_form_offers_only_allowed_statuses(client, make_user, login_as, make_project):
    project = make_project(status="design", progress=30)
    login_as(make_user())
    page = client.get(f"/staff/projects/{project.id}").text
    assert 'value="construction"' in page
    assert 'value="completed"' not in page


def test_the_form_works_without_javascript(client, session, make_user, login_as, make_project):
    project = make_project()
    login_as(make_user())
    url = f"/staff/projects/{project.id}"

    refused = client.post(url, data={"status": "completed", "progress": "100"})
    assert refused.status_code == 400
    assert "「未着手」から「完了」には変更できません" in refused.text

    done = client.post(
        url, data={"status": "design", "progress": "25", "note": "設計着手"}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "記録しました" in done.text
    assert "設計着手" in done.text
    assert history(session, project)[-1] == ("planned", "design", 25)


def test_the_service_worker_is_served_with_the_staff_scope(client):
    response = client.get("/staff/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/staff/"
    # The worker reads each page's scripts and styles from the page itself; its version
    # follows every static file's hashed name, so a changed asset makes a new worker.
    config = json.loads(re.search(r"self.ASO_SW = (\{.*?\});", response.text).group(1))
    assert config["precache"] == ["/staff/"]
    before = {"static": {"js/staff_form.js": "js/staff_form.111111111111.js"}}
    after = {"static": {"js/staff_form.js": "js/staff_form.222222222222.js"}}
    assert assets_version(before, "worker") != assets_version(after, "worker")
    assert assets_version(before, "worker") == assets_version(before, "worker")


# --- CSRF, as the app runs for real -------------------------------------------------------


@pytest.fixture
def csrf_client(database_url, connection, tmp_path, client, login_as, make_user):
    """A client of the app with CSRF checks on, signed in as staff by session cookie."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "DB_CONNECTION": connection,
            "SECRET_KEY": "test-secret",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "WTF_CSRF_ENABLED": True,
        }
    )
    login_as(make_user("staff"))
    signed_in = app.test_client()
    signed_in.set_cookie("session", client.get_cookie("session").value)
    return signed_in


def test_cookie_posts_need_the_csrf_token_that_the_staff_pages_hand_out(
    csrf_client, session, make_project
):
    project = make_project()
    url = f"/api/projects/{project.id}/updates"
    payload = {"status": "design", "progress": 10}

    refused = csrf_client.post(url, json=payload)
    assert refused.status_code == 400
    assert "CSRF" in refused.json["error"]
    assert len(history(session, project)) == 1

    page = csrf_client.get(f"/staff/projects/{project.id}").text
    assert '<meta name="csrf-token"' in page
    assert 'name="csrf_token"' in page
    token = csrf_client.get("/staff/csrf.json").json["csrf_token"]
    accepted = csrf_client.post(url, json=payload, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
    assert history(session, project)[-1] == ("planned", "design", 10)
