"""Accounts: passwords, sign-in and sign-out, sessions, cookies, CSRF, throttling, tokens, CLI."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tracker.accounts.models import ApiToken, LoginAttempt, LoginSession, User
from tracker.core import clock

PASSWORD = "correct horse battery"


def _login(client, login, password, **kwargs):
    return client.post("/login", data={"login": login, "password": password}, **kwargs)


def _csrf_token(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_passwords_are_stored_as_argon2id_hashes(make_user):
    user = make_user(password=PASSWORD)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_sign_in_and_out_with_the_form(client, make_user):
    make_user(role="staff", login="tanaka", password=PASSWORD, display_name="田中")
    page = client.get("/login")
    assert page.status_code == 200 and "職員ログイン" in page.get_data(as_text=True)

    response = _login(client, "tanaka", PASSWORD)
    assert response.status_code == 302
    home = client.get("/projects/new")
    assert home.status_code == 200
    assert "田中" in home.get_data(as_text=True) and "ログアウト" in home.get_data(as_text=True)

    assert client.post("/logout").status_code == 302
    assert client.get("/projects/new").headers["Location"].startswith("/login")


def test_wrong_password_and_unknown_login_get_the_same_answer(client, make_user):
    make_user(login="tanaka", password=PASSWORD)
    wrong = _login(client, "tanaka", "not the password")
    unknown = _login(client, "nobody", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "ログイン名またはパスワードが違います" in response.get_data(as_text=True)
    assert client.get("/projects/new").status_code == 302


def test_a_login_with_a_nul_character_is_refused_not_crashed(client, session):
    response = _login(client, "tanaka\x00", PASSWORD)
    assert response.status_code == 400
    assert "使えない文字" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_inactive_users_cannot_sign_in(client, make_user):
    make_user(login="left", password=PASSWORD, is_active=False)
    assert "違います" in _login(client, "left", PASSWORD).get_data(as_text=True)


def test_sign_in_redirects_back_but_never_to_another_site(client, make_user):
    make_user(login="tanaka", password=PASSWORD)
    data = {"login": "tanaka", "password": PASSWORD}
    assert (
        client.post("/login", data=data | {"next": "/projects/new"})
        .headers["Location"]
        .endswith("/projects/new")
    )
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post("/login", data=data | {"next": target})
        assert "evil" not in response.headers["Location"]


def test_sign_in_starts_a_new_session(client, make_user):
    make_user(login="tanaka", password=PASSWORD)
    with client.session_transaction() as s:
        s["planted"] = "by someone else"
        s["sid"] = "a session id chosen by an attacker"
    _login(client, "tanaka", PASSWORD)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["sid"] != "a session id chosen by an attacker"
        first = s["sid"]
    client.post("/logout")
    _login(client, "tanaka", PASSWORD)
    with client.session_transaction() as s:
        assert s["sid"] != first


def test_an_old_cookie_is_worthless_after_sign_out(client, app, make_user, session):
    make_user(login="tanaka", password=PASSWORD)
    _login(client, "tanaka", PASSWORD)
    stolen = client.get_cookie("session").value
    client.post("/logout")

    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/projects/new").status_code == 302  # sent to sign in
    assert session.scalar(select(func.count()).where(LoginSession.ended_at.is_not(None))) >= 1


def test_a_cookie_with_only_a_user_id_signs_no_one_in(client, make_user):
    # Before server-side sessions, the signed cookie held the user id alone.
    user = make_user(role="admin")
    with client.session_transaction() as s:
        s["user_id"] = user.id
    assert client.get("/projects/new").status_code == 302


def test_session_cookie_is_httponly_and_samesite_and_secure_over_https(app, make_user):
    make_user(login="tanaka", password=PASSWORD)
    plain = app.test_client()
    cookie = _login(plain, "tanaka", PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    https = app.test_client()
    response = https.post(
        "/login", data={"login": "tanaka", "password": PASSWORD}, base_url="https://localhost"
    )
    assert "Secure" in response.headers["Set-Cookie"]


# --- CSRF -------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(csrf_app):
    return csrf_app.test_client()


def test_a_form_post_without_csrf_token_is_refused(csrf_client, make_user, session):
    make_user(login="tanaka", password=PASSWORD)
    response = _login(csrf_client, "tanaka", PASSWORD)
    assert response.status_code == 400
    assert "送信を受け付けられませんでした" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(LoginSession)) == 0

    token = _csrf_token(csrf_client)
    response = csrf_client.post(
        "/login", data={"login": "tanaka", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_logout_needs_the_csrf_token(csrf_client, make_user):
    make_user(login="tanaka", password=PASSWORD)
    csrf_client.post(
        "/login",
        data={"login": "tanaka", "password": PASSWORD, "csrf_token": _csrf_token(csrf_client)},
    )
    # A cross-site page cannot sign people out either.
    assert csrf_client.post("/logout").status_code == 400
    assert csrf_client.get("/projects/new").status_code == 200
    token = _csrf_token(csrf_client, "/projects/new")
    assert csrf_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert csrf_client.get("/projects/new").status_code == 302


def test_the_token_rotates_with_the_session(csrf_client, make_user):
    make_user(login="tanaka", password=PASSWORD)
    before = _csrf_token(csrf_client)
    csrf_client.post("/login", data={"login": "tanaka", "password": PASSWORD, "csrf_token": before})
    # The token of the anonymous session is gone with it.
    assert csrf_client.post("/logout", data={"csrf_token": before}).status_code == 400


# --- Throttling -------------------------------------------------------------------------


def test_five_failures_for_one_account_lock_it_for_a_while(client, make_user, session):
    make_user(login="tanaka", password=PASSWORD)
    for _ in range(5):
        assert _login(client, "tanaka", "wrong password").status_code == 200
    # Even the right password is refused now, with a message that says what to do.
    response = _login(client, "tanaka", PASSWORD)
    assert response.status_code == 429
    assert "しばらくログインできません" in response.get_data(as_text=True)
    assert "約5分後" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) <= 300
    assert client.get("/projects/new").status_code == 302
    # The count is in the database, where every worker process sees it.
    failures = select(func.count()).where(LoginAttempt.login == "tanaka", ~LoginAttempt.succeeded)
    assert session.scalar(failures) == 5


def test_the_lock_holds_for_another_worker(app, csrf_app, make_user):
    make_user(login="tanaka", password=PASSWORD)
    first_worker = app.test_client()
    for _ in range(5):
        _login(first_worker, "tanaka", "wrong password")
    second_worker = csrf_app.test_client()
    second_worker.application.config["WTF_CSRF_ENABLED"] = False
    assert _login(second_worker, "tanaka", PASSWORD).status_code == 429


def test_five_failures_from_one_address_lock_that_address(app, make_user):
    make_user(login="tanaka", password=PASSWORD)
    office = {"REMOTE_ADDR": "192.0.2.10"}
    elsewhere = {"REMOTE_ADDR": "198.51.100.7"}
    client = app.test_client()
    for n in range(5):
        _login(client, f"guess{n}", "wrong password", environ_base=office)
    assert _login(client, "tanaka", PASSWORD, environ_base=office).status_code == 429
    assert _login(client, "tanaka", PASSWORD, environ_base=elsewhere).status_code == 302


def test_failures_spread_over_more_than_a_minute_do_not_lock(client, make_user, session):
    make_user(login="tanaka", password=PASSWORD)
    for seconds in (200, 150, 100, 50):  # four earlier failures, each a minute apart
        session.execute(
            text(
                "INSERT INTO login_attempts (at, login, address, succeeded) "
                "VALUES (:at, 'tanaka', '127.0.0.1', false)"
            ),
            {"at": clock.now() - timedelta(seconds=seconds)},
        )
    _login(client, "tanaka", "wrong password")
    assert _login(client, "tanaka", PASSWORD).status_code == 302


def test_the_lock_ends_after_five_minutes(client, make_user, session):
    make_user(login="tanaka", password=PASSWORD)
    session.execute(
        text(
            "INSERT INTO login_attempts (at, login, address, succeeded) "
            "SELECT :at, 'tanaka', '127.0.0.1', false FROM generate_series(1, 5)"
        ),
        {"at": clock.now() - timedelta(seconds=301)},
    )
    assert _login(client, "tanaka", PASSWORD).status_code == 302


# --- API tokens and the command line -----------------------------------------------------


def test_create_user_prints_a_generated_password_that_works(app, client, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "sato", "--role", "admin", "--generate"])
    assert result.exit_code == 0, result.output
    password = re.search(r"password: (\S+)", result.output).group(1)
    user = session.scalar(select(User).where(User.login == "sato"))
    assert user.role == "admin" and user.password_hash.startswith("$argon2id$")
    assert _login(client, "sato", password).status_code == 302

    again = runner.invoke(
        args=["create-user", "SATO", "--role", "staff"], input="plover kettle surf marble\n"
    )
    assert again.exit_code != 0 and "already taken" in again.output


def test_create_user_refuses_a_short_password_and_an_unknown_role(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-user", "kato", "--role", "staff"], input="short\n")
    assert short.exit_code != 0 and "12" in short.output
    role = runner.invoke(args=["create-user", "kato", "--role", "mayor", "--generate"])
    assert role.exit_code != 0


def test_token_from_the_command_line_works_until_revoked(app, client, make_user, session):
    make_user(role="viewer", login="planner")
    runner = app.test_cli_runner()
    token = runner.invoke(args=["create-token", "planner", "--name", "QGIS"]).output.strip()
    # Never starting with "-": revoke-token below would read such a token as an option.
    assert token.startswith("aso_") and len(token) >= 40
    stored = session.scalar(select(ApiToken.token_hash))
    assert token not in stored and len(stored) == 64  # only the sha256 is kept

    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/projects", headers=headers).status_code == 200

    result = runner.invoke(args=["revoke-token", token])
    assert result.exit_code == 0 and "revoked 1" in result.output
    response = client.get("/api/projects", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {
        "error": "このトークンは登録されていないか、取り消されています。",
        "code": "invalid_token",
    }
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    english = client.get("/api/projects?lang=en", headers=headers).get_json()
    assert english == {
        "error": "This token is unknown or has been revoked.",
        "code": "invalid_token",
    }


def test_revoke_every_token_of_a_user(app, client, make_user):
    make_user(role="staff", login="tanaka")
    runner = app.test_cli_runner()
    tokens = [
        runner.invoke(args=["create-token", "tanaka", "--name", f"PC {n}"]).output.strip()
        for n in range(2)
    ]
    result = runner.invoke(args=["revoke-token", "--login", "tanaka"])
    assert "revoked 2" in result.output
    for token in tokens:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/projects", headers=headers).status_code == 401


def test_a_bad_token_does_not_fall_back_to_the_session_cookie(client, make_user, login_as):
    login_as(make_user(role="staff"))
    response = client.get("/projects/new", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


# --- What each role sees ------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, sees_private", [(None, False), ("viewer", True), ("staff", True), ("admin", True)]
)
def test_staff_only_projects_are_seen_by_signed_in_roles_only(
    client, make_user, make_project, login_as, role, sees_private
):
    private = make_project(name="内部検討中の砂防", kind="sabo", is_public=False)
    if role:
        login_as(make_user(role=role))
    ids = {f["id"] for f in client.get("/api/projects").get_json()["features"]}
    assert (private.id in ids) is sees_private
    page = client.get(f"/projects/{private.id}")
    assert page.status_code == (200 if sees_private else 404)


# --- Every write route ----------------------------------------------------------------------

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Anyone may try to sign in, and signing out only ends one's own session. Residents ask for
# e-mail alerts without an account; confirming, changing and stopping them (and asking for a
# new manage link to their own address) is authorised by the signed link in their mail (the one-click unsubscribe, RFC 8058, also without a cookie).
# An invitee joins with the one-time link in their invitation, before they can sign in.
OPEN_TO_ALL = {
    "accounts.login",
    "accounts.logout",
    "joining.join",
    "accounts.verify",
    "accounts.passkey_options",
    "accounts.passkey_sign_in",
    # One's own second factors, whatever one's role (tests/test_two_factor.py).
    "two_factor.app_setup",
    "two_factor.app_remove",
    "two_factor.new_recovery_codes",
    "two_factor.passkey_options",
    "two_factor.passkey_add",
    "two_factor.passkey_remove",
    "alerts.subscribe",
    "alerts.confirm",
    "alerts.manage",
    "alerts.unsubscribe",
    "alerts.new_manage_link",
    "account.forgot",
    "account.reset",
    # Residents report without an account; Open311 clients with an API key (tests/test_reports.py).
    "reports.report_post",
    "reports.send",
    "reports.confirm",
    "reports.unsubscribe",
    "open311.create_request",
}


# Writes a signed-in cookie gives no power over: Open311 takes an API key, a resident's report
# is anonymous, an unsubscribe link carries its own signed token (RFC 8058).
NO_COOKIE_AUTHORITY = {"open311.create_request", "reports.send", "reports.unsubscribe"}


def write_routes(app) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, rule) of every route that changes something."""
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods & WRITE_METHODS
    )


def _url(rule: str, project_id: int) -> str:
    return re.sub(r"<[^>]+>", str(project_id), rule)


def _history_size(session) -> int:
    session.expire_all()
    return session.scalar(
        text(
            "SELECT (SELECT count(*) FROM status_updates) + (SELECT count(*) FROM project_changes)"
        )
    )


def test_every_write_route_refuses_anonymous_and_viewer_callers(
    app, client, session, make_user, make_project, login_as
):
    from tracker.accounts.operations import create_token

    project = make_project()
    routes = [r for r in write_routes(app) if r[0] not in OPEN_TO_ALL]
    # The listing itself works: the API, the forms and the staff flow are all in it.
    assert {
        "api.update_project_view",
        "editing.edit_project",
        "staff.submit_update",
        "alerts.retry_failed_mail",
        "alerts.retry_failed_mails",
    } <= {endpoint for endpoint, _method, _rule in routes}
    before = _history_size(session)
    viewer = make_user(role="viewer")
    token = {"Authorization": f"Bearer {create_token(session, viewer)}"}
    body = {"status": "construction", "progress": 50, "name": "上書き"}
    for endpoint, method, rule in routes:
        url = _url(rule, project.id)
        anonymous = app.test_client().open(url, method=method, data=body)
        where = f"{method} {url} ({endpoint})"
        assert anonymous.status_code in (302, 401), where
        if anonymous.status_code == 302:
            assert anonymous.headers["Location"].startswith("/login"), where
        assert client.open(url, method=method, json=body, headers=token).status_code == 403, where
        if endpoint.startswith("account."):
            continue  # a viewer's own account (password, sessions, tokens) is theirs to change
        login_as(viewer)
        assert client.open(url, method=method, data=body).status_code == 403, where
    assert _history_size(session) == before


def test_every_cookie_signed_write_needs_the_csrf_token(
    csrf_app, session, make_user, make_project, login_as
):
    project = make_project()
    client = csrf_app.test_client()
    login_as(make_user(role="admin"), client)
    before = _history_size(session)
    for endpoint, method, rule in write_routes(csrf_app):
        url = _url(rule, project.id)
        response = client.open(
            url, method=method, data={"status": "construction", "progress": "50"}
        )
        if endpoint in NO_COOKIE_AUTHORITY:
            # No CSRF token asked: the cookie gives these no authority to forge.
            assert response.status_code in (400, 403, 404), f"{method} {url} ({endpoint})"
        else:
            assert response.status_code == 400, f"{method} {url} ({endpoint})"
    assert _history_size(session) == before
    # Signed in still: the refused sign-out did not go through either.
    assert client.get("/projects/new").status_code == 200
