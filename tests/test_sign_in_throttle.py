"""The sign-in throttle cannot lock out a browser its owner signed in with before; locks
grow with repeated failures; admin sessions end sooner."""

from datetime import timedelta

from sqlalchemy import func, select, text

from tracker.accounts.access import SESSION_KEY
from tracker.accounts.models import LoginAttempt
from tracker.accounts.operations import start_login_session
from tracker.accounts.throttle import DEVICE_COOKIE
from tracker.core import clock

PASSWORD = "correct horse battery"


def _login(client, login, password, **kwargs):
    return client.post("/login", data={"login": login, "password": password}, **kwargs)


def test_guesses_from_elsewhere_never_lock_out_a_known_browser(app, make_user):
    make_user(role="staff", login="yamada", password=PASSWORD)
    owner = app.test_client()
    assert _login(owner, "yamada", PASSWORD).status_code == 302
    assert owner.get_cookie(DEVICE_COOKIE) is not None
    owner.post("/logout")

    attacker = app.test_client()
    for _ in range(10):
        _login(attacker, "yamada", "guess guess guess")
    assert _login(attacker, "yamada", PASSWORD).status_code == 429
    # Same address even (both are 127.0.0.1 here): the owner's browser signs in at once.
    assert _login(owner, "yamada", PASSWORD).status_code == 302
    assert owner.get("/projects/new").status_code == 200


def test_a_device_cookie_of_another_user_or_forged_counts_for_nothing(app, make_user):
    make_user(role="admin", login="yamada", password=PASSWORD)
    make_user(role="staff", login="sato", password=PASSWORD)
    other = app.test_client()
    assert _login(other, "sato", PASSWORD).status_code == 302
    sato_device = other.get_cookie(DEVICE_COOKIE).value
    for cookie in (sato_device, "forged.value"):
        attacker = app.test_client()
        attacker.set_cookie(DEVICE_COOKIE, cookie)
        for _ in range(5):
            _login(attacker, "yamada", "guess guess guess")
        assert _login(attacker, "yamada", PASSWORD).status_code == 429


def test_a_known_browser_is_throttled_too_when_it_guesses(app, make_user):
    make_user(role="staff", login="sato", password=PASSWORD)
    browser = app.test_client()
    assert _login(browser, "sato", PASSWORD).status_code == 302
    browser.post("/logout")
    for _ in range(5):
        _login(browser, "sato", "guess guess guess")
    assert _login(browser, "sato", PASSWORD).status_code == 429


def test_locks_grow_with_repeated_failures(client, make_user, session):
    make_user(login="tanaka", password=PASSWORD)

    def failures(n: int, seconds_ago: int):
        session.execute(
            text(
                "INSERT INTO login_attempts (at, login, address, succeeded) "
                "SELECT :at, 'tanaka', '192.0.2.1', false FROM generate_series(1, :n)"
            ),
            {"n": n, "at": clock.now() - timedelta(seconds=seconds_ago)},
        )

    # Five failures 8 minutes ago: their 5-minute lock is over.
    failures(5, 480)
    assert _login(client, "tanaka", PASSWORD).status_code == 302
    client.post("/logout")
    client.delete_cookie(DEVICE_COOKIE)
    # That success (moved to 7 minutes ago) reset the count. Ten failures since, 6 minutes
    # ago: the lock doubles to 10 minutes and has 4 left.
    session.execute(
        text("UPDATE login_attempts SET at = :at WHERE succeeded"),
        {"at": clock.now() - timedelta(seconds=420)},
    )
    failures(10, 360)
    response = _login(client, "tanaka", PASSWORD)
    assert response.status_code == 429
    assert 200 < int(response.headers["Retry-After"]) <= 240
    assert "約4分後" in response.get_data(as_text=True)


def test_every_try_is_written_down_once(client, make_user, session):
    make_user(login="tanaka", password=PASSWORD)
    _login(client, "tanaka", "guess guess guess")
    _login(client, "tanaka", PASSWORD)
    rows = session.execute(select(LoginAttempt.succeeded).order_by(LoginAttempt.id)).scalars()
    assert list(rows) == [False, True]
    assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 2


def _signed_in(app, session, user, *, created: str, seen: str):
    client = app.test_client()
    sid = start_login_session(session, user)
    session.execute(
        text(
            "UPDATE login_sessions SET created_at = :now - CAST(:c AS interval),"
            " last_seen_at = :now - CAST(:s AS interval) WHERE user_id = :u"
        ),
        {"now": clock.now(), "c": created, "s": seen, "u": user.id},
    )
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = sid
    return client


def test_admin_sessions_end_after_30_idle_minutes_or_12_hours(app, session, make_user):
    admin = make_user(role="admin")
    staff = make_user(role="staff")
    cases = [
        (admin, "1 hour", "29 minutes", 200),
        (admin, "1 hour", "31 minutes", 302),
        (admin, "13 hours", "1 minute", 302),
        (staff, "13 hours", "5 hours", 200),
        (staff, "13 days", "7 hours", 200),
        (staff, "13 days", "9 hours", 302),  # staff too are signed out after 8 idle hours
        (staff, "15 days", "1 minute", 302),
    ]
    for user, created, seen, status in cases:
        client = _signed_in(app, session, user, created=created, seen=seen)
        assert client.get("/projects/new").status_code == status, (user.role, created, seen)
        session.execute(text("DELETE FROM login_sessions"))


def test_using_a_session_keeps_an_admin_signed_in(app, session, make_user):
    admin = make_user(role="admin")
    client = _signed_in(app, session, admin, created="1 hour", seen="20 minutes")
    assert client.get("/projects/new").status_code == 200
    seen = clock.now() - session.scalar(text("SELECT last_seen_at FROM login_sessions"))
    assert seen.total_seconds() < 60


def test_the_admin_limits_are_configurable(app, session, make_user):
    from datetime import timedelta

    app.config["ADMIN_SESSION_IDLE"] = timedelta(minutes=5)
    client = _signed_in(app, session, make_user(role="admin"), created="1 hour", seen="6 minutes")
    assert client.get("/projects/new").status_code == 302
