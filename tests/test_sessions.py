"""Sign-in sessions (OWASP ASVS V3): staff and viewers too are signed out after an idle time,
with a warning before; the cookie is a __Host- cookie over HTTPS; no answer to a signed-in
request is kept by any cache, while anonymous answers keep their caching."""

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from tracker.accounts.models import LoginSession
from tracker.accounts.operations import create_token
from tracker.alerts.models import AlertSubscription
from tracker.alerts.tokens import token_for
from tracker.core import clock

PASSWORD = "correct horse battery"
IDLE_SCRIPT = re.compile(
    r'<script src="/account/static/idle_warning\.[0-9a-f]+\.js" defer data-idle-seconds="(\d+)"'
)


def test_a_staff_session_idle_past_the_limit_is_refused_on_the_next_request(
    client, session, make_user, login_as
):
    login_as(make_user("staff"))
    assert client.get("/projects/new").status_code == 200
    with time_machine.travel(clock.now() + timedelta(hours=7, minutes=58), tick=False):
        assert client.get("/projects/new").status_code == 200  # used: the idle time restarts
    with time_machine.travel(clock.now() + timedelta(hours=15, minutes=57), tick=False):
        assert client.get("/projects/new").status_code == 200
    with time_machine.travel(clock.now() + timedelta(hours=24), tick=False):
        refused = client.get("/projects/new")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")


def test_a_viewer_is_signed_out_after_the_configured_idle_time(app, client, make_user, login_as):
    app.config["STAFF_SESSION_IDLE"] = timedelta(hours=2)
    login_as(make_user("viewer"))
    with time_machine.travel(clock.now() + timedelta(hours=2, minutes=1), tick=False):
        assert client.get("/account").status_code == 302


def test_signed_in_pages_carry_the_idle_warning_with_the_persons_limit(
    app, client, make_user, login_as
):
    assert IDLE_SCRIPT.search(app.test_client().get("/").get_data(as_text=True)) is None
    with time_machine.travel(clock.now(), tick=False) as traveller:
        login_as(make_user("staff"))
        page = client.get("/").get_data(as_text=True)
        assert IDLE_SCRIPT.search(page)[1] == str(8 * 3600)
        assert 'data-ping-url="/account/ping"' in page
        # Uses are written down at most once a minute: the page is told what is left of the
        # idle time since the last one written, not the whole of it.
        traveller.shift(40)
        later = client.get("/").get_data(as_text=True)
        assert IDLE_SCRIPT.search(later)[1] == str(8 * 3600 - 40)
        login_as(make_user("admin"))
        assert IDLE_SCRIPT.search(client.get("/account").get_data(as_text=True))[1] == str(30 * 60)
    script = client.get(IDLE_SCRIPT.search(page)[0].split('"')[1])
    assert script.status_code == 200 and b"role" in script.data


def test_the_ping_keeps_a_session_going(client, session, make_user, login_as):
    user = make_user("staff")
    login_as(user)
    row = session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    later = clock.now() + timedelta(hours=7, minutes=59)
    with time_machine.travel(later, tick=False):
        pinged = client.get("/account/ping")
    assert pinged.status_code == 204 and pinged.headers["Cache-Control"] == "no-store"
    session.refresh(row)
    assert row.last_seen_at == later
    with time_machine.travel(later + timedelta(hours=7), tick=False):
        assert client.get("/projects/new").status_code == 200
    anonymous = client.application.test_client().get("/account/ping")
    assert anonymous.status_code == 401


def test_the_session_cookie_is_a_host_cookie_over_https(app, make_user):
    make_user(login="tanaka", password=PASSWORD)
    https = app.test_client()
    response = https.post(
        "/login", data={"login": "tanaka", "password": PASSWORD}, base_url="https://localhost"
    )
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "session=" in c]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert https.get("/account", base_url="https://localhost").status_code == 200
    # The same cookie under the plain name would be a cookie a plain-HTTP page could set.
    assert https.get_cookie("session", domain="localhost") is None

    plain = app.test_client()
    answer = plain.post("/login", data={"login": "tanaka", "password": PASSWORD})
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if "session=" in c]
    assert cookie.startswith("session=") and "Secure" not in cookie
    assert plain.get("/account").status_code == 200


def test_secure_cookie_setting_names_the_cookie_with_the_prefix_too(app, make_user):
    app.config["SESSION_COOKIE_SECURE"] = True
    make_user(login="tanaka", password=PASSWORD)
    response = app.test_client().post("/login", data={"login": "tanaka", "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("__Host-session=") for c in cookies), cookies


def test_signed_in_answers_are_never_cached(client, session, make_user, make_project, login_as):
    project = make_project()
    staff = make_user("staff")
    bearer = {"Authorization": f"Bearer {create_token(session, staff)}"}
    anonymous = client.application.test_client()
    # Anonymous public answers keep the caching they had.
    public = anonymous.get("/ogc/collections/projects/items?f=json")
    assert public.headers["Cache-Control"].startswith("public")
    assert "no-store" not in anonymous.get(f"/projects/{project.id}").headers.get(
        "Cache-Control", ""
    )

    assert client.get("/api/projects", headers=bearer).headers["Cache-Control"] == "no-store"
    login_as(staff)
    for path in (
        "/",
        f"/projects/{project.id}",
        "/api/projects",
        "/plan/projects.csv",
        "/ogc/collections/projects/items?f=json",
        "/account",
        "/no-such-page",
    ):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_the_alert_manage_page_is_never_cached(app, client, session, make_project):
    sub = AlertSubscription(
        email="alerts@example.jp", email_canonical="alerts@example.jp", lang="ja",
        project_id=make_project().id,
        wants_restrictions=True, wants_start_finish=True, wants_status=True,
        frequency="immediate", confirmed_at=clock.now(),
    )  # fmt: skip
    session.add(sub)
    session.flush()
    with app.app_context():
        token = token_for("manage", sub)
    response = client.get(f"/alerts/manage/{token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_deactivated_persons_session_and_token_are_refused_on_the_next_request(
    client, session, make_user, login_as
):
    user = make_user("staff")
    token = create_token(session, user, name="laptop")
    login_as(user)
    assert client.get("/projects/new").status_code == 200
    user.is_active = False
    session.flush()
    assert client.get("/projects/new").status_code == 302
    refused = client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
