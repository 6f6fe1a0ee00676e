"""Second factors: the authenticator app (set up with a QR code, a code works once), recovery
codes (each once), the pending sign-in between password and code (it expires), wrong codes
throttled together with wrong passwords, admins who must set up a factor before their session
starts, and no secret or code in any log line."""

import logging
import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from tests.smtp_server import smtp_server
from tracker.accounts.mail import wait_for_mails
from tracker.accounts.models import AccountEvent, LoginSession, Passkey, RecoveryCode, User
from tracker.accounts.operations import start_login_session
from tracker.accounts.recovery_codes import codes_left, make_codes
from tracker.core import clock

PASSWORD = "correct horse battery"
THROTTLED = "ログインの失敗が続いたため、しばらくログインできません。"


@pytest.fixture(autouse=True)
def frozen():
    """Codes are of a 30-second step: the clock stands still unless a test moves it."""
    with time_machine.travel(clock.now(), tick=False) as traveller:
        yield traveller


def _login(client, login, password=PASSWORD, next_target=None):
    data = {"login": login, "password": password}
    if next_target:
        data["next"] = next_target
    return client.post("/login", data=data)


def _code(secret: str, *, steps_later: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30 * steps_later))


def _signed_in(client) -> bool:
    return client.get("/projects/new").status_code == 200


def _sessions(session, user) -> int:
    return session.scalar(
        select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
    )


def _actions(session, user) -> list[str]:
    return list(
        session.scalars(
            select(AccountEvent.action)
            .where(AccountEvent.user_id == user.id)
            .order_by(AccountEvent.id)
        )
    )


def _secret_on_page(html: str) -> str:
    return re.search(r'id="secret">([^<]+)<', html).group(1).replace(" ", "")


def _codes_on_page(html: str) -> list[str]:
    listed = html.split('class="recovery-codes"')[1].split("</ol>")[0]
    return re.findall(r"<li>([^<]+)</li>", listed)


def _with_app(make_user, role="staff", **fields):
    secret = pyotp.random_base32()
    user = make_user(role, password=PASSWORD, totp_secret=secret, **fields)
    return user, secret


# --- Setting up the app -----------------------------------------------------------------


def test_the_app_is_set_up_with_a_qr_code_and_confirmed_by_a_first_code(
    app, client, session, make_user, login_as
):
    user = make_user("staff", login="tanaka", password=PASSWORD, email="tanaka@example.jp")
    login_as(user)
    overview = client.get("/account/two-factor")
    assert overview.status_code == 200 and overview.headers["Cache-Control"] == "no-store"
    assert "まだ登録されていません" in overview.get_data(as_text=True)

    page = client.get("/account/two-factor/app")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'class="qr-code" src="data:image/svg+xml' in html
    secret = _secret_on_page(html)
    assert len(secret) == 32
    # The same secret until it is confirmed (a reload must not void the scanned code).
    assert _secret_on_page(client.get("/account/two-factor/app").get_data(as_text=True)) == secret

    wrong = client.post("/account/two-factor/app", data={"code": "000000"})
    assert wrong.status_code == 400 and "コードが違います" in wrong.get_data(as_text=True)
    session.expire_all()
    assert user.totp_secret is None

    with smtp_server() as (mailbox, url):
        app.config["SMTP_URL"] = url
        shown = client.post("/account/two-factor/app", data={"code": _code(secret)})
        wait_for_mails()
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    codes = _codes_on_page(shown.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code) for code in codes)
    session.expire_all()
    assert user.totp_secret == secret
    hashes = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    assert not {c.replace("-", "") for c in codes} & set(hashes)
    assert _actions(session, user) == ["totp_enabled", "recovery_codes_made"]
    [mail] = mailbox.to("tanaka@example.jp")
    assert "アカウントが変更されました" in mail["Subject"]
    assert "認証アプリを登録しました" in mail.get_content()
    assert secret not in mail.get_content() and codes[0] not in mail.get_content()

    # The secret is out of the session, and the page now says the app is set up.
    with client.session_transaction() as s:
        assert "totp_setup" not in s
    assert "登録されています" in client.get("/account/two-factor").get_data(as_text=True)
    assert client.get("/account/two-factor/app").status_code == 302


def test_setting_up_needs_a_signed_in_person(client):
    answer = client.get("/account/two-factor/app")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


# --- Signing in with a code -------------------------------------------------------------


def test_the_password_alone_starts_no_session_and_a_code_works_once(app, session, make_user):
    user, secret = _with_app(make_user, login="sato")
    client = app.test_client()
    answer = _login(client, "sato", next_target="/plan")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login/verify"
    assert not _signed_in(client) and _sessions(session, user) == 0

    page = client.get("/login/verify")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "6桁のコード" in page.get_data(as_text=True)
    code = _code(secret)
    answer = client.post(
        "/login/verify", data={"code": code[:3] + " " + code[3:]}, headers={"User-Agent": "U" * 400}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/plan"
    assert _signed_in(client)
    row = session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert row.user_agent == "U" * 300 and row.address == "127.0.0.1"
    session.expire_all()
    assert user.last_sign_in_at == clock.now()

    # The same code again (a replay), even from another browser: refused.
    other = app.test_client()
    _login(other, "sato")
    replay = other.post("/login/verify", data={"code": code})
    assert "コードが違います" in replay.get_data(as_text=True)
    assert not _signed_in(other)
    # The next step's code works (one step either side of now is accepted).
    assert (
        other.post("/login/verify", data={"code": _code(secret, steps_later=1)}).status_code == 302
    )
    assert _signed_in(other)
    # A code two steps away is outside the window.
    third = app.test_client()
    _login(third, "sato")
    third.post("/login/verify", data={"code": _code(secret, steps_later=3)})
    assert not _signed_in(third)


def test_wrong_codes_and_wrong_passwords_count_together(app, session, make_user):
    _user, secret = _with_app(make_user, login="suzuki")
    client = app.test_client()
    for _ in range(2):
        assert "違います" in _login(client, "suzuki", "wrong horse battery").get_data(as_text=True)
    # A right password whose code never comes counts as a failed try too.
    assert _login(client, "suzuki").headers["Location"] == "/login/verify"
    for _ in range(2):
        assert client.post("/login/verify", data={"code": "123456"}).status_code == 200
    refused = client.post("/login/verify", data={"code": _code(secret)})
    assert refused.status_code == 429 and THROTTLED in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    assert not _signed_in(client)
    # The password is refused just as well from now on.
    again = _login(app.test_client(), "suzuki")
    assert again.status_code == 429 and THROTTLED in again.get_data(as_text=True)


def test_a_recovery_code_works_once(app, session, make_user):
    user, _secret = _with_app(make_user, login="kato")
    with app.test_request_context("/"):
        codes = make_codes(session, user)
    session.flush()
    client = app.test_client()
    _login(client, "kato")
    page = client.get("/login/verify")
    assert "回復コード" in page.get_data(as_text=True)
    typed = codes[3].upper().replace("-", " ")
    assert client.post("/login/verify", data={"code": typed}).status_code == 302
    assert _signed_in(client)
    assert codes_left(session, user) == 9
    assert "recovery_code_used" in _actions(session, user)

    again = app.test_client()
    _login(again, "kato")
    refused = again.post("/login/verify", data={"code": codes[3]})
    assert "コードが違います" in refused.get_data(as_text=True)
    assert not _signed_in(again)
    # Another, unused, code still works.
    assert again.post("/login/verify", data={"code": codes[4]}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(app, client, session, make_user, login_as):
    user, _secret = _with_app(make_user, login="ito")
    with app.test_request_context("/"):
        old = make_codes(session, user)
    login_as(user)
    page = client.post("/account/two-factor/recovery-codes")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    new = _codes_on_page(page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    browser = app.test_client()
    _login(browser, "ito")
    assert browser.post("/login/verify", data={"code": old[0]}).status_code == 200
    assert browser.post("/login/verify", data={"code": new[0]}).status_code == 302


def test_the_pending_sign_in_expires_after_five_minutes(app, session, make_user, frozen):
    user, secret = _with_app(make_user, login="kimura")
    client = app.test_client()
    _login(client, "kimura")
    frozen.shift(timedelta(minutes=5, seconds=30))
    answer = client.post("/login/verify", data={"code": _code(secret)})
    assert answer.status_code == 400
    assert "有効期限が切れました" in answer.get_data(as_text=True)
    assert not _signed_in(client) and _sessions(session, user) == 0
    # Without any pending sign-in the page says the same.
    assert "有効期限が切れました" in app.test_client().get("/login/verify").get_data(as_text=True)


def test_a_pending_code_check_cannot_set_up_a_factor(app, session, make_user):
    """Someone who knows only the password must not add their own app or passkey."""
    _with_app(make_user, "admin", login="yoshida")
    client = app.test_client()
    _login(client, "yoshida")
    for path in ("/account/two-factor", "/account/two-factor/app"):
        assert client.get(path).headers["Location"].startswith("/login")
    assert client.post("/account/passkeys/options", json={}).status_code == 401


# --- Roles that need a second factor ----------------------------------------------------


def test_an_admin_without_a_second_factor_sets_one_up_before_the_session_starts(
    app, session, make_user
):
    admin = make_user("admin", login="kanri", password=PASSWORD)
    client = app.test_client()
    answer = _login(client, "kanri", next_target="/projects/new")
    assert answer.headers["Location"] == "/account/two-factor"
    assert not _signed_in(client) and _sessions(session, admin) == 0
    overview = client.get("/account/two-factor").get_data(as_text=True)
    assert "ログインが完了します" in overview
    # Taking factors away, or new codes, are for signed-in people only.
    assert (
        client.post("/account/two-factor/recovery-codes").headers["Location"].startswith("/login")
    )

    secret = _secret_on_page(client.get("/account/two-factor/app").get_data(as_text=True))
    assert _sessions(session, admin) == 0
    shown = client.post("/account/two-factor/app", data={"code": _code(secret)})
    assert shown.status_code == 200
    assert len(_codes_on_page(shown.get_data(as_text=True))) == 10
    assert 'href="/projects/new"' in shown.get_data(as_text=True)
    assert re.search(r'class="nav-user"[^>]*>kanri<', shown.get_data(as_text=True))
    assert _sessions(session, admin) == 1 and _signed_in(client)

    # Next time the code is asked for.
    client.post("/logout")
    assert _login(client, "kanri").headers["Location"] == "/login/verify"


def test_the_set_up_state_lasts_a_quarter_of_an_hour(app, session, make_user, frozen):
    make_user("admin", login="kanri", password=PASSWORD)
    client = app.test_client()
    _login(client, "kanri")
    frozen.shift(timedelta(minutes=16))
    assert client.get("/account/two-factor").headers["Location"].startswith("/login")


def test_staff_sign_in_at_once_and_may_set_up_a_factor_from_an_invitation_link(
    app, session, make_user
):
    make_user("staff", login="tanaka", password=PASSWORD)
    client = app.test_client()
    answer = _login(client, "tanaka", next_target="/account/two-factor")
    assert answer.headers["Location"] == "/account/two-factor"
    assert _signed_in(client)
    assert "認証アプリを登録する" in client.get("/account/two-factor").get_data(as_text=True)


def test_the_roles_that_need_a_second_factor_are_a_setting(app, session, make_user):
    app.config["SECOND_FACTOR_ROLES"] = ["admin", "staff"]
    make_user("staff", login="tanaka", password=PASSWORD)
    make_user("viewer", login="etsuran", password=PASSWORD)
    assert _login(app.test_client(), "tanaka").headers["Location"] == "/account/two-factor"
    assert _login(app.test_client(), "etsuran").headers["Location"] == "/"


def test_the_settings_default_is_admins_only(monkeypatch):
    from config import load_config

    monkeypatch.delenv("SECOND_FACTOR_ROLES", raising=False)
    assert load_config()["SECOND_FACTOR_ROLES"] == ["admin"]
    monkeypatch.setenv("SECOND_FACTOR_ROLES", "admin, staff")
    assert load_config()["SECOND_FACTOR_ROLES"] == ["admin", "staff"]
    monkeypatch.setenv("SECOND_FACTOR_ROLES", "")
    assert load_config()["SECOND_FACTOR_ROLES"] == []


# --- Taking factors away ----------------------------------------------------------------


def test_removing_the_app_needs_the_password(app, client, session, make_user, login_as):
    user, _secret = _with_app(make_user, login="tanaka")
    with app.test_request_context("/"):
        make_codes(session, user)
    login_as(user)
    wrong = client.post("/account/two-factor/app/remove", data={"password": "wrong horse"})
    assert wrong.status_code == 400 and "パスワードが違います" in wrong.get_data(as_text=True)
    session.expire_all()
    assert user.totp_secret is not None
    assert (
        client.post("/account/two-factor/app/remove", data={"password": PASSWORD}).status_code
        == 302
    )
    session.expire_all()
    assert user.totp_secret is None and codes_left(session, user) == 0
    assert "totp_removed" in _actions(session, user)
    # Signing in needs the password alone again.
    assert _login(app.test_client(), "tanaka").headers["Location"] == "/staff/"


def test_an_admin_keeps_the_last_factor(app, client, session, make_user, login_as):
    admin, _secret = _with_app(make_user, "admin", login="kanri")
    login_as(admin)
    refused = client.post("/account/two-factor/app/remove", data={"password": PASSWORD})
    assert refused.status_code == 400
    assert "最後の認証方法は削除できません" in refused.get_data(as_text=True)
    session.expire_all()
    assert admin.totp_secret is not None

    # With a passkey besides, the app may go; then the passkey is the last.
    key = Passkey(user_id=admin.id, credential_id=b"k1", public_key=b"p", name="事務所のPC")
    session.add(key)
    session.flush()
    session.expire_all()
    assert (
        client.post("/account/two-factor/app/remove", data={"password": PASSWORD}).status_code
        == 302
    )
    refused = client.post(f"/account/passkeys/{key.id}/remove")
    assert refused.status_code == 400
    assert session.get(Passkey, key.id) is not None


def test_a_passkey_is_removed_by_its_owner_only(client, session, make_user, login_as):
    owner, _secret = _with_app(make_user, login="tanaka")
    key = Passkey(user_id=owner.id, credential_id=b"k2", public_key=b"p", name="電話")
    session.add(key)
    session.flush()
    key_id = key.id
    login_as(make_user("staff", login="sato"))
    assert client.post(f"/account/passkeys/{key_id}/remove").status_code == 404
    login_as(owner)
    overview = client.get("/account/two-factor").get_data(as_text=True)
    assert "電話" in overview and "まだ使われていません" in overview
    assert client.post(f"/account/passkeys/{key_id}/remove").status_code == 302
    session.expire_all()
    assert session.get(Passkey, key_id) is None
    assert "passkey_removed" in _actions(session, owner)


# --- Passkey endpoints without a browser (the browser tests use a real authenticator) ----


def test_passkey_options_name_this_site_and_their_challenge_serves_once(
    app, client, session, make_user, login_as
):
    user = make_user("staff", login="tanaka", password=PASSWORD)
    login_as(user)
    options = client.post("/account/passkeys/options", json={}).get_json()
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    bogus = {"credential": {"id": "x", "rawId": "x", "type": "public-key"}, "name": "x"}
    first = client.post("/account/passkeys", json=bogus, headers={"Accept": "application/json"})
    assert first.status_code == 400 and first.get_json()["code"] == "passkey_refused"
    second = client.post("/account/passkeys", json=bogus, headers={"Accept": "application/json"})
    assert second.get_json()["code"] == "passkey_challenge_missing"

    app.config["PUBLIC_URL"] = "https://works.city.aso.example:8443"
    options = client.post("/account/passkeys/options", json={}).get_json()
    assert options["rp"]["id"] == "works.city.aso.example"


def test_passwordless_options_ask_for_a_verified_person_and_any_passkey(client):
    options = client.post("/login/passkey/options", json={"mode": "passwordless"}).get_json()
    assert options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []
    unknown = client.post(
        "/login/passkey",
        json={"mode": "passwordless", "credential": {"id": "AAAA", "rawId": "AAAA"}},
        headers={"Accept": "application/json"},
    )
    assert unknown.status_code == 400 and unknown.get_json()["code"] == "passkey_unknown"
    # As a second factor, only within a pending sign-in.
    expired = client.post(
        "/login/passkey/options", json={"mode": "second"}, headers={"Accept": "application/json"}
    )
    assert expired.status_code == 400 and expired.get_json()["code"] == "sign_in_expired"


def test_passkey_posts_need_the_csrf_token(csrf_app, make_user):
    client = csrf_app.test_client()
    answer = client.post("/login/passkey/options", json={}, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["code"] == "csrf_failed"
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    answer = client.post("/login/passkey/options", json={}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.get_json()["challenge"]


# --- Nothing secret in the logs ---------------------------------------------------------


def test_no_log_line_holds_a_secret_or_a_code(app, client, session, make_user, login_as, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user("staff", login="tanaka", password=PASSWORD, email="tanaka@example.jp")
    login_as(user)
    secret = _secret_on_page(client.get("/account/two-factor/app").get_data(as_text=True))
    client.post("/account/two-factor/app", data={"code": "999999"})
    first = _code(secret)
    shown = client.post("/account/two-factor/app", data={"code": first})
    codes = _codes_on_page(shown.get_data(as_text=True))
    browser = app.test_client()
    _login(browser, "tanaka")
    browser.post("/login/verify", data={"code": "111111"})
    browser.post("/login/verify", data={"code": codes[0]})
    assert _signed_in(browser)
    lines = "\n".join(r.getMessage() for r in caplog.records)
    assert "sign-in" in lines  # the log was captured
    for secret_thing in [secret, totp_grouped(secret), first, "999999", "111111", *codes]:
        assert secret_thing not in lines
        assert secret_thing.replace("-", "") not in lines


def totp_grouped(secret: str) -> str:
    from tracker.accounts.totp import grouped

    return grouped(secret)


def test_a_session_keeps_the_browser_and_address_it_was_started_from(session, make_user):
    user = make_user("staff")
    start_login_session(session, user, user_agent="x" * 1000, address="192.0.2.7")
    row = session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert len(row.user_agent) == 300 and row.address == "192.0.2.7"
    assert session.get(User, user.id).last_sign_in_at == clock.now()
