"""The person's own account: change the password, see and end sign-in sessions, API tokens
shown once, a forgotten password answered the same for anyone, reset links used once; the
account commands that read passwords from a prompt or standard input."""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, func, select

from tests.smtp_server import smtp_server
from tracker.accounts.access import hash_token
from tracker.accounts.links import issue_link
from tracker.accounts.mail import wait_for_mails
from tracker.accounts.models import (
    AccountEvent,
    ApiToken,
    Department,
    LoginAttempt,
    LoginSession,
    User,
)
from tracker.accounts.operations import create_token, start_login_session
from tracker.accounts.own_account import RESET_PER_ADDRESS, RESET_PER_PERSON, describe_device
from tracker.accounts.passwords import verify_password
from tracker.core import clock

PASSWORD = "correct horse battery"
NEW_PASSWORD = "lantern orchard quietly seventeen"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CSRF_FIELD = re.compile(
    r'(name="csrf_token"[^>]*value=")[^"]+(")|(<meta name="csrf-token" content=")[^"]+(")'
)


@pytest.fixture
def mail(app):
    """A real SMTP server that catches the app's mails."""
    with smtp_server() as (mailbox, url):
        app.config["SMTP_URL"] = url
        yield mailbox


def _events(session, action):
    return session.scalars(select(AccountEvent).where(AccountEvent.action == action)).all()


def _sessions_of(session, user, user_agent="", address=""):
    sid = start_login_session(session, user)
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == hash_token(sid)))
    row.user_agent, row.address = user_agent, address
    session.flush()
    return sid, row


# --- Changing one's own password ------------------------------------------------------------


def test_changing_the_password_keeps_this_device_and_signs_out_the_others(
    app, client, session, make_user, login_as, mail
):
    user = make_user("staff", login="tanaka", password=PASSWORD, email="tanaka@example.jp")
    _sid, other = _sessions_of(session, user, CHROME_ANDROID)
    login_as(user)
    form = {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}

    wrong = client.post("/account/password", data=form | {"current": "not my password"})
    assert wrong.status_code == 400 and "今のパスワードが違います" in wrong.get_data(as_text=True)
    weak = client.post(
        "/account/password", data=form | {"password": "tanaka123456", "confirm": "tanaka123456"}
    )
    assert weak.status_code == 400 and "推測されやすい" in weak.get_data(as_text=True)
    assert PASSWORD not in weak.get_data(as_text=True)  # never sent back in the page

    done = client.post("/account/password", data=form)
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    session.expire_all()
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.password_changed_at is not None
    assert other.ended_at is not None  # the phone is signed out
    page = client.get("/account")  # this browser is still signed in
    assert page.status_code == 200 and "ほかの端末はログアウトしました" in page.get_data(
        as_text=True
    )
    [event] = _events(session, "password_changed")
    assert event.user_id == user.id and event.detail == {}
    wait_for_mails()
    [notice] = mail.to("tanaka@example.jp")
    assert "アカウントが変更されました" in notice["Subject"]
    assert NEW_PASSWORD not in notice.get_content()


def test_own_sessions_are_listed_with_device_and_the_others_can_be_signed_out(
    client, session, make_user, login_as
):
    user = make_user("viewer", login="etsuran", password=PASSWORD)
    _sessions_of(session, user, CHROME_ANDROID, "192.0.2.10")
    _sessions_of(session, user, SAFARI_IPHONE, "198.51.100.7")
    # Ended sessions and other people's are not listed.
    _sid, ended = _sessions_of(session, user, "Mozilla/5.0 (Windows NT 10.0) Firefox/128.0")
    ended.ended_at = clock.now()
    _sessions_of(session, make_user("staff"), "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    login_as(user)

    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "Chrome, Android" in page and "192.0.2.10" in page
    assert "Safari, iPhone" in page and "198.51.100.7" in page
    assert "Firefox" not in page
    assert "(this device)" in page
    assert 'href="/account/two-factor"' in page

    response = client.post("/account/sessions/end-others")
    assert response.status_code == 303
    session.expire_all()
    live = session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ).all()
    assert len(live) == 1
    [event] = _events(session, "sessions_ended")
    assert event.detail == {"count": 2}
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("user_agent", "words"),
    [
        (CHROME_ANDROID, "Chrome, Android"),
        (SAFARI_IPHONE, "Safari, iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge, Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko Firefox/128.0",
            "Firefox, macOS",
        ),
        ("curl/8.5.0", "不明な端末"),
        ("", "不明な端末"),
    ],
)
def test_devices_are_named_in_words_people_know(app, user_agent, words):
    with app.test_request_context("/"):
        assert describe_device(user_agent) == words


def test_account_pages_take_the_browser_sign_in_only(app, client, session, make_user):
    user = make_user("staff")
    headers = {"Authorization": f"Bearer {create_token(session, user)}"}
    assert client.get("/account", headers=headers).status_code == 403
    assert client.post("/account/tokens", data={"name": "x"}, headers=headers).status_code == 403
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 1
    anonymous = app.test_client().get("/account")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


# --- API tokens -----------------------------------------------------------------------------


def test_a_token_is_shown_once_works_and_can_be_revoked(client, session, make_user, login_as):
    user = make_user("staff", login="tanaka")
    login_as(user)
    made = client.post("/account/tokens", data={"name": "QGIS 建設課", "days": "90"})
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token"[^>]*value="(aso_[^"]+)"', made.get_data(as_text=True))[1]
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.name == "QGIS 建設課" and row.token_hash == hash_token(token)
    assert row.expires_at - clock.now() == pytest.approx(
        timedelta(days=90), abs=timedelta(minutes=1)
    )

    listing = client.get("/account/tokens")
    assert listing.headers["Cache-Control"] == "no-store"
    assert token not in listing.get_data(as_text=True)  # never shown again
    assert "QGIS 建設課" in listing.get_data(as_text=True)

    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/projects", headers=bearer).status_code == 200
    revoked = client.post(f"/account/tokens/{row.id}/revoke")
    assert revoked.status_code == 303
    assert client.get("/api/projects", headers=bearer).status_code == 401
    created, gone = _events(session, "token_created"), _events(session, "token_revoked")
    assert [e.detail for e in created] == [{"token_id": row.id, "name": "QGIS 建設課"}]
    assert [e.detail for e in gone] == [{"token_id": row.id, "name": "QGIS 建設課"}]


def test_a_token_needs_a_name_and_an_expiry_of_at_most_a_year(client, session, make_user, login_as):
    user = make_user("viewer")
    other = make_user("staff")
    login_as(user)
    for data in (
        {"name": "", "days": "30"},
        {"name": "x", "days": "400"},
        {"name": "x", "days": ""},
    ):
        assert client.post("/account/tokens", data=data).status_code == 400, data
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0
    # The form always has an expiry; a request without one gets the form's 90 days.
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 200
    assert session.scalar(select(ApiToken.expires_at)) is not None
    session.execute(delete(ApiToken))
    # Someone else's token cannot be revoked from here.
    create_token(session, other, name="theirs")
    theirs = session.scalar(select(ApiToken.id))
    assert client.post(f"/account/tokens/{theirs}/revoke").status_code == 404


def test_an_expired_token_is_refused_with_words_that_say_so(client, session, make_user):
    user = make_user("staff")
    token = create_token(session, user, name="laptop", expires_at=clock.now() + timedelta(days=30))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/projects", headers=headers).status_code == 200
    with time_machine.travel(clock.now() + timedelta(days=30, seconds=1), tick=False):
        refused = client.get("/api/projects?lang=en", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json() == {
        "error": "This token has expired. Make a new one.",
        "code": "invalid_token",
    }
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_last_use_of_a_token_is_written_at_most_once_a_minute(client, session, make_user):
    token = create_token(session, make_user("staff"), name="script")
    headers = {"Authorization": f"Bearer {token}"}
    row = session.scalar(select(ApiToken))
    client.get("/api/projects", headers=headers)
    session.refresh(row)
    first = row.last_used_at
    assert first is not None
    with time_machine.travel(first + timedelta(seconds=30), tick=False):
        client.get("/api/projects", headers=headers)
    session.refresh(row)
    assert row.last_used_at == first
    with time_machine.travel(first + timedelta(seconds=61), tick=False):
        client.get("/api/projects", headers=headers)
    session.refresh(row)
    assert row.last_used_at == first + timedelta(seconds=61)


# --- A forgotten password ---------------------------------------------------------------------


def _without_csrf(html: str) -> str:
    return CSRF_FIELD.sub(r"\1\2\3\4", html)


def test_forgot_answers_the_same_for_known_and_unknown_people(app, session, make_user, mail):
    make_user("staff", login="tanaka", email="tanaka@example.jp")
    make_user("staff", login="noaddress")  # no e-mail: nothing can be sent
    make_user("staff", login="left", email="left@example.jp", is_active=False)
    answers = []
    for identifier in ("tanaka@example.jp", "nobody@example.jp", "TANAKA", "noaddress", "left"):
        client = app.test_client()
        form = client.get("/account/forgot")
        assert form.status_code == 200
        response = client.post("/account/forgot", data={"identifier": identifier})
        answers.append((response.status_code, _without_csrf(response.get_data(as_text=True))))
    assert answers[0][0] == 200
    assert all(answer == answers[0] for answer in answers), "answers differ"
    wait_for_mails()
    assert len(mail.to("tanaka@example.jp")) == 2  # by address and by login (any case)
    assert mail.to("left@example.jp") == []
    assert len(mail.messages) == 2


def test_forgot_mails_a_person_at_most_a_few_times_and_slows_down_an_address(
    app, client, session, make_user, mail
):
    make_user("staff", login="sato", email="sato@example.jp")
    for n in range(RESET_PER_PERSON + 2):
        response = client.post("/account/forgot", data={"identifier": "sato@example.jp"})
        assert response.status_code == 200, n  # the same answer, mail or not
    wait_for_mails()
    assert len(mail.to("sato@example.jp")) == RESET_PER_PERSON
    # Asks are counted under their own keys: the address's sign-ins are not held up.
    assert (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.address == "127.0.0.1")
        )
        == 0
    )
    for n in range(RESET_PER_ADDRESS - RESET_PER_PERSON - 2):
        client.post("/account/forgot", data={"identifier": f"someone{n}@example.jp"})
    refused = client.post("/account/forgot", data={"identifier": "other@example.jp"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert "1時間ほど待って" in refused.get_data(as_text=True)
    with time_machine.travel(clock.now() + timedelta(hours=1, minutes=1), tick=False):
        assert (
            client.post("/account/forgot", data={"identifier": "x@example.jp"}).status_code == 200
        )


def test_a_reset_link_sets_a_password_once_and_signs_out_everywhere(
    app, client, session, make_user, mail
):
    user = make_user("staff", login="kimura", password=PASSWORD, email="kimura@example.jp")
    _sid, phone = _sessions_of(session, user, CHROME_ANDROID)
    with app.test_request_context("/"):
        token = issue_link(session, user, "reset")
    page = client.get(f"/account/reset/{token}")
    assert page.status_code == 200 and "kimura" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"

    weak = client.post(f"/account/reset/{token}", data={"password": "kimura", "confirm": "kimura"})
    assert weak.status_code == 400  # refused: the link still works
    done = client.post(
        f"/account/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    login_page = client.get("/login").get_data(as_text=True)
    assert "新しいパスワードを設定しました" in login_page
    session.expire_all()
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert phone.ended_at is not None
    assert [e.user_id for e in _events(session, "password_reset")] == [user.id]
    wait_for_mails()
    [notice] = mail.to("kimura@example.jp")
    assert "アカウントが変更されました" in notice["Subject"]

    again = client.post(f"/account/reset/{token}", data={"password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 410
    assert "すでに使われています" in again.get_data(as_text=True)
    assert 'href="/account/forgot"' in again.get_data(as_text=True)
    session.expire_all()
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_a_reset_link_does_not_work_after_an_hour(client, app, session, make_user):
    user = make_user("staff", login="mori", password=PASSWORD, email="mori@example.jp")
    with app.test_request_context("/"):
        token = issue_link(session, user, "reset")
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    with time_machine.travel(clock.now() + timedelta(minutes=61), tick=False):
        assert client.get(f"/account/reset/{token}").status_code == 410
        assert client.post(f"/account/reset/{token}", data=data).status_code == 410
    session.expire_all()
    assert verify_password(user.password_hash, PASSWORD)


def test_no_log_line_holds_a_password_or_a_token(
    app, client, session, make_user, login_as, mail, caplog
):
    caplog.set_level(logging.DEBUG)
    user = make_user("staff", login="ueda", password=PASSWORD, email="ueda@example.jp")
    login_as(user)
    made = client.post("/account/tokens", data={"name": "script", "days": "30"})
    api_token = re.search(r'value="(aso_[^"]+)"', made.get_data(as_text=True))[1]
    client.get("/api/projects", headers={"Authorization": f"Bearer {api_token}"})
    client.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    client.post("/account/forgot", data={"identifier": "ueda@example.jp"})
    wait_for_mails()
    [reset_mail] = [m for m in mail.to("ueda@example.jp") if "再設定" in m["Subject"]]
    reset_token = reset_mail.get_content().split("/account/reset/")[1].split()[0]
    third = "tumble ferry velvet ounce"
    client.get(f"/account/reset/{reset_token}")
    client.post(f"/account/reset/{reset_token}", data={"password": third, "confirm": third})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/account/reset/<token>" in logged  # the route, not the link
    for secret in (PASSWORD, NEW_PASSWORD, third, api_token, reset_token):
        assert secret not in logged


# --- The command line -------------------------------------------------------------------------


def test_create_user_reads_the_password_from_standard_input(app, client, session):
    session.add_all([Department(name="建設課"), Department(name="農林課")])
    session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "nakamura", "--role", "staff", "--department", "農林課",
              "--email", "nakamura@example.jp", "--display-name", "中村"],
        input=NEW_PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    user = session.scalar(select(User).where(User.login == "nakamura"))
    assert user.department_names == ["農林課"] and user.email == "nakamura@example.jp"
    assert (
        client.post("/login", data={"login": "nakamura", "password": NEW_PASSWORD}).status_code
        == 302
    )
    [event] = _events(session, "created")
    assert event.detail == {"role": "staff", "departments": ["農林課"]}


def test_create_user_refuses_a_password_argument_and_unknown_departments(app, session):
    session.add(Department(name="建設課"))
    session.flush()
    runner = app.test_cli_runner()
    argument = runner.invoke(args=["create-user", "abe", "--role", "staff", "--password", "x" * 20])
    assert argument.exit_code == 2 and "--password" in argument.output
    unknown = runner.invoke(
        args=["create-user", "abe", "--role", "staff", "--department", "観光課"],
        input=NEW_PASSWORD + "\n",
    )
    assert unknown.exit_code != 0
    assert "観光課" in unknown.output and "建設課" in unknown.output  # the known ones are listed
    empty = runner.invoke(args=["create-user", "abe", "--role", "staff"], input="")
    assert empty.exit_code != 0 and "standard input" in empty.output
    assert session.scalar(select(User).where(User.login == "abe")) is None


def test_create_token_names_the_token_and_lasts_the_days_asked(app, session, make_user):
    make_user("viewer", login="planner")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-token", "planner", "--name", "QGIS", "--days", "30"])
    assert result.exit_code == 0, result.output
    row = session.scalar(select(ApiToken))
    assert row.name == "QGIS" and row.token_hash == hash_token(result.output.strip())
    assert row.expires_at - clock.now() == pytest.approx(
        timedelta(days=30), abs=timedelta(minutes=1)
    )
    assert (
        runner.invoke(args=["create-token", "planner", "--name", "x", "--days", "366"]).exit_code
        == 2
    )
    assert runner.invoke(args=["create-token", "planner"]).exit_code == 2  # a name is needed
