"""/admin/users: admins invite people by mail, change their roles and departments, deactivate
and reactivate them, keep the list of departments; every change is audited and shown. The
invitee chooses a password with a link that works once, within 72 hours."""

import re
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from tests.smtp_server import smtp_server
from tracker.accounts import people
from tracker.accounts.mail import wait_for_mails
from tracker.accounts.models import (
    AccountEvent,
    AccountLink,
    ApiToken,
    Department,
    LoginSession,
    User,
)
from tracker.accounts.operations import create_token
from tracker.accounts.passwords import verify_password
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.projects.audit import project_changes

GOOD_PASSWORD = "外輪山 kettle umbrella 1987 tide"


@contextmanager
def mails(app):
    """Catch the mails the app sends while inside, in a real SMTP server."""
    with smtp_server() as (mailbox, url):
        app.config["SMTP_URL"] = url
        yield mailbox
        wait_for_mails()


def token_in(message, path: str = "/account/join/") -> str:
    return message.get_content().split(path)[1].split()[0]


def events(session, action: str | None = None) -> list[AccountEvent]:
    query = select(AccountEvent).order_by(AccountEvent.id)
    if action:
        query = query.where(AccountEvent.action == action)
    session.expire_all()
    return list(session.scalars(query))


@pytest.fixture
def admin(make_user):
    return make_user("admin", login="kanri", display_name="管理 花子", email="kanri@example.jp")


@pytest.fixture
def as_admin(client, login_as, admin):
    return login_as(admin)


@pytest.fixture
def departments(session):
    """The departments of the list, by name (the migration made those the works named)."""
    for name in ("建設課", "農林課"):
        if session.scalar(select(Department).where(Department.name == name)) is None:
            session.add(Department(name=name))
    session.flush()
    return {d.name: d for d in session.scalars(select(Department))}


def invite_form(**fields) -> dict:
    return {
        "login": "tanaka",
        "display_name": "田中 一郎",
        "email": "tanaka@example.jp",
        "role": "staff",
        "language": "ja",
        "form": "invite",
    } | fields


def test_only_admins_reach_the_page_and_its_forms(client, login_as, make_user):
    anonymous = client.get("/admin/users")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for role in ("staff", "viewer"):
        login_as(make_user(role))
        assert client.get("/admin/users").status_code == 403
        assert client.post("/admin/users/invite", data=invite_form()).status_code == 403
        assert client.get("/admin/users/audit").status_code == 403
        assert "/admin/users" not in client.get("/").get_data(as_text=True)
    login_as(make_user("admin"))
    page = client.get("/admin/users")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'href="/admin/users"' in client.get("/").get_data(as_text=True)  # in the menu


def test_the_page_lists_every_account_with_what_matters(
    client, as_admin, make_user, session, departments
):
    staff = make_user(
        "staff",
        login="sato",
        display_name="佐藤",
        email="sato@example.jp",
        departments=[departments["農林課"]],
        last_sign_in_at=datetime(2026, 4, 1, 0, 30, tzinfo=UTC),
        totp_secret="JBSWY3DPEHPK3PXP",
    )
    make_user("viewer", login="gone", is_active=False)
    html = client.get("/admin/users").get_data(as_text=True)
    card = html.split(f'id="person-{staff.id}"')[1].split("</li>")[0]
    assert "sato@example.jp" in card and "職員" in card and "農林課" in card
    assert "設定済み" in card  # second factor
    assert "09:30" in card  # 00:30 UTC is 09:30 in Japan
    assert "利用停止中" in html
    english = client.get("/admin/users?lang=en").get_data(as_text=True)
    assert "Staff" in english and "Last sign-in (JST)" in english and "Deactivated" in english


def test_an_invitation_is_mailed_and_its_link_sets_the_password_once(
    app, client, as_admin, session, departments, caplog
):
    with mails(app) as mailbox:
        response = client.post(
            "/admin/users/invite",
            data=invite_form(email="Tanaka@Example.jp", departments=[departments["建設課"].id]),
        )
        assert response.status_code == 303
    user = session.scalar(select(User).where(User.login == "tanaka"))
    assert user.password_hash == "!" and user.is_active and user.department_names == ["建設課"]
    [message] = mailbox.to("Tanaka@Example.jp")
    body = message.get_content()
    assert "招待" in message["Subject"] and "管理 花子" in body and "職員" in body
    assert "72時間" in body and "ログイン名：tanaka" in body
    token = token_in(message)
    assert re.search(r"http://localhost/account/join/[\w-]{40,}\n", body)
    # The one secret in the mail is the link's; nothing like another token or a password.
    assert len(re.findall(r"[A-Za-z0-9_-]{30,}", body)) == 1

    page = client.get(f"/account/join/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "管理 花子 さんから、「職員」として招待されました。" in html and "tanaka" in html
    english = app.test_client().get(f"/account/join/{token}?lang=en").get_data(as_text=True)
    assert "管理 花子 invited you as Staff." in english

    weak = client.post(
        f"/account/join/{token}", data={"password": "tanaka1234567", "confirm": "tanaka1234567"}
    )
    assert weak.status_code == 400 and "推測されやすいパスワードです" in weak.get_data(as_text=True)
    session.refresh(user)
    assert user.password_hash == "!"  # nothing changed, the link still works
    mismatch = client.post(
        f"/account/join/{token}", data={"password": GOOD_PASSWORD, "confirm": "something else"}
    )
    assert mismatch.status_code == 400 and "一致しません" in mismatch.get_data(as_text=True)

    done = client.post(
        f"/account/join/{token}", data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/account/join/done"
    ready = client.get("/account/join/done").get_data(as_text=True)
    assert "/login?next=/account/two-factor" in ready and "準備ができました" in ready
    session.refresh(user)
    assert verify_password(user.password_hash, GOOD_PASSWORD)
    assert user.password_changed_at is not None

    again = client.post(
        f"/account/join/{token}", data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    )
    assert again.status_code == 410 and "この招待のリンクは使えません" in again.get_data(
        as_text=True
    )
    assert [e.action for e in events(session) if e.user_id == user.id] == ["invited", "joined"]
    signed_in = client.post("/login", data={"login": "tanaka", "password": GOOD_PASSWORD})
    assert signed_in.status_code == 302
    # The log shows the pages' path without the token, and never the password.
    assert "/account/join/<token>" in caplog.text
    assert token not in caplog.text and GOOD_PASSWORD not in caplog.text


def test_the_invitation_link_ends_after_72_hours(app, client, as_admin, session):
    with mails(app) as mailbox:
        client.post("/admin/users/invite", data=invite_form())
    token = token_in(mailbox.messages[0])
    with time_machine.travel(clock.now() + timedelta(hours=71), tick=False):
        assert client.get(f"/account/join/{token}").status_code == 200
    with time_machine.travel(clock.now() + timedelta(hours=73), tick=False):
        late = client.post(
            f"/account/join/{token}", data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
        )
        assert late.status_code == 410 and "72時間" in late.get_data(as_text=True)
    assert session.scalar(select(User.password_hash).where(User.login == "tanaka")) == "!"


def test_sending_the_invitation_again_voids_the_first_link(app, client, as_admin, session):
    with mails(app) as mailbox:
        client.post("/admin/users/invite", data=invite_form())
        user = session.scalar(select(User).where(User.login == "tanaka"))
        assert "招待中" in client.get("/admin/users").get_data(as_text=True)
        assert client.post(f"/admin/users/{user.id}/resend").status_code == 303
    first, second = (token_in(m) for m in mailbox.to("tanaka@example.jp"))
    assert client.get(f"/account/join/{first}").status_code == 410
    assert client.get(f"/account/join/{second}").status_code == 200
    assert [e.detail for e in events(session, "invited")][-1] == {"resent": True}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"email": "KANRI@example.jp"}, "このメールアドレスはほかのアカウントで使われています"),
        ({"email": "not an address"}, "メールアドレスの形になっていません"),
        ({"login": "KANRI"}, "このログイン名はすでに使われています"),
        ({"display_name": " "}, "表示名：入力してください"),
        ({"role": "mayor"}, "役割を選んでください"),
        ({"departments": ["999999"]}, "担当課の一覧にない課が選ばれています"),
    ],
)
def test_a_refused_invitation_says_why_and_writes_nothing(
    app, client, as_admin, session, fields, words
):
    with mails(app) as mailbox:
        response = client.post("/admin/users/invite", data=invite_form(**fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and words in html and "何も変更していません" in html
    assert f'value="{invite_form(**fields)["email"]}"' in html  # what was typed is kept
    assert session.scalar(select(func.count()).select_from(User)) == 1
    assert session.scalar(select(func.count()).select_from(AccountLink)) == 0
    assert events(session) == [] and mailbox.messages == []


def test_role_departments_and_details_changes_are_audited_and_mailed(
    app, client, as_admin, admin, make_user, session, departments
):
    staff = make_user("staff", login="sato", email="sato@example.jp", language="en")
    with mails(app) as mailbox:
        assert (
            client.post(f"/admin/users/{staff.id}/role", data={"role": "viewer"}).status_code == 303
        )
        picked = [departments["建設課"].id, departments["農林課"].id]
        client.post(f"/admin/users/{staff.id}/departments", data={"departments": picked})
        client.post(
            f"/admin/users/{staff.id}/details",
            data={"display_name": "Sato", "email": "new@example.jp", "language": "en"},
        )
    session.refresh(staff)
    assert staff.role == "viewer" and staff.department_names == ["建設課", "農林課"]
    assert staff.email == "new@example.jp" and staff.display_name == "Sato"
    changes = events(session)
    assert [(e.action, e.actor_id, e.user_id) for e in changes] == [
        ("role_changed", admin.id, staff.id),
        ("departments_changed", admin.id, staff.id),
        ("details_changed", admin.id, staff.id),
    ]
    assert changes[0].detail == {"old": "staff", "new": "viewer"}
    assert changes[2].detail == {"fields": ["display_name", "email"]}
    # In the person's language; a changed address hears of it at the old address too.
    to_old = mailbox.to("sato@example.jp")
    assert [m["Subject"] for m in to_old] == [
        "[Aso City recovery works] Your account was changed"
    ] * 3
    assert "from Staff to Viewer" in to_old[0].get_content()
    assert len(mailbox.to("new@example.jp")) == 1

    page = client.get("/admin/users").get_data(as_text=True)
    for words in ("役割の変更", "職員 → 閲覧者", "担当課の変更", "名前・メールの変更"):
        assert words in page


def test_deactivation_refuses_the_open_session_and_the_token_at_the_next_request(
    app, client, as_admin, make_user, session, login_as
):
    staff = make_user("staff", login="sato", email="sato@example.jp")
    phone = login_as(staff, app.test_client())
    token = create_token(session, staff)
    bearer = {"Authorization": f"Bearer {token}"}
    assert phone.get("/staff/").status_code == 200
    assert client.get("/api/projects", headers=bearer).status_code == 200

    with mails(app) as mailbox:
        assert client.post(f"/admin/users/{staff.id}/deactivate").status_code == 303
    assert phone.get("/staff/").status_code == 302  # back to the sign-in
    assert client.get("/api/projects", headers=bearer).status_code == 401
    session.expire_all()
    assert (
        session.scalar(
            select(func.count())
            .select_from(LoginSession)
            .where(LoginSession.user_id == staff.id, LoginSession.ended_at.is_(None))
        )
        == 0
    )
    assert "利用が停止されました" in mailbox.to("sato@example.jp")[0].get_content()

    assert client.post(f"/admin/users/{staff.id}/reactivate").status_code == 303
    # The token was only refused, not revoked; the ended session stays ended.
    assert client.get("/api/projects", headers=bearer).status_code == 200
    assert phone.get("/staff/").status_code == 302
    changes = [e.action for e in events(session) if e.action != "token_created"]
    assert changes == ["deactivated", "reactivated"]


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(
    app, client, as_admin, admin, make_user, session
):
    for path, data in ((f"/admin/users/{admin.id}/role", {"role": "staff"}),
                       (f"/admin/users/{admin.id}/deactivate", {})):  # fmt: skip
        refused = client.post(path, data=data)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "最後の管理者" in html
    assert "last administrator" in client.post(
        f"/admin/users/{admin.id}/deactivate?lang=en"
    ).get_data(as_text=True)
    # An inactive admin does not count.
    make_user("admin", login="former", is_active=False)
    assert client.post(f"/admin/users/{admin.id}/role", data={"role": "viewer"}).status_code == 400
    session.refresh(admin)
    assert admin.role == "admin" and admin.is_active and events(session) == []

    other = make_user("admin", login="second")
    assert client.post(f"/admin/users/{other.id}/role", data={"role": "staff"}).status_code == 303
    assert client.post(f"/admin/users/{admin.id}/deactivate").status_code == 400
    another = make_user("admin", login="third")
    assert client.post(f"/admin/users/{another.id}/deactivate").status_code == 303


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, engine):
    """The guard locks the admins' rows: the second demotion waits, then counts one admin."""
    with Session(engine) as setup:
        first, second = (User(login=f"race-{n}", role="admin", password_hash="!") for n in (1, 2))
        setup.add_all([first, second])
        setup.commit()
        ids = first.id, second.id
    outcome: dict[str, object] = {}
    try:
        with app.test_request_context("/"), Session(engine) as one:
            a, b = one.get(User, ids[0]), one.get(User, ids[1])
            people.change_role(one, b, "staff", actor=a)  # holds the admins' locks

            def demote_the_other() -> None:
                with app.test_request_context("/"), Session(engine) as two:
                    me, them = two.get(User, ids[1]), two.get(User, ids[0])
                    try:
                        people.change_role(two, them, "staff", actor=me)
                        two.commit()
                        outcome["second"] = "demoted"
                    except BadInput as refusal:
                        outcome["second"] = refusal.code

            racer = threading.Thread(target=demote_the_other)
            racer.start()
            _wait_until_blocked(engine, racer)
            one.commit()
            racer.join()
        assert outcome["second"] == "last_admin"
        with Session(engine) as check:
            roles = check.scalars(select(User.role).where(User.id.in_(ids)).order_by(User.id))
            assert list(roles) == ["admin", "staff"]
    finally:
        with Session(engine) as cleanup:
            cleanup.execute(delete(AccountEvent).where(AccountEvent.user_id.in_(ids)))
            cleanup.execute(delete(User).where(User.id.in_(ids)))
            cleanup.commit()


def _wait_until_blocked(engine, racer: threading.Thread) -> None:
    """Return once another connection waits for a row lock (the racer's FOR UPDATE), or the
    racer has finished without waiting (then its outcome fails the test)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND datname = current_database()"
    )
    with engine.connect() as watcher:
        while racer.is_alive() and not watcher.execute(waiting).scalar():
            watcher.rollback()


def test_departments_are_added_renamed_and_removed_with_their_works_and_people(
    client, as_admin, admin, make_user, make_project, session, departments
):
    work = make_project(department="農林課")
    version = work.version
    staff = make_user("staff", departments=[departments["農林課"]])

    assert client.post("/admin/users/departments", data={"name": "観光課"}).status_code == 303
    same = client.post("/admin/users/departments", data={"name": "観光課"})
    assert same.status_code == 400 and "「観光課」はすでに一覧にあります" in same.get_data(
        as_text=True
    )

    farming = departments["農林課"]
    renamed = client.post(
        f"/admin/users/departments/{farming.id}/rename", data={"name": "農林振興課"}
    )
    assert renamed.status_code == 303
    session.expire_all()
    assert work.department == "農林振興課" and work.version == version + 1
    assert project_changes(session, work.id)[0].changes == {
        "department": {"old": "農林課", "new": "農林振興課"}
    }
    assert project_changes(session, work.id)[0].user_id == admin.id
    assert staff.department_names == ["農林振興課"]

    in_use = client.post(f"/admin/users/departments/{farming.id}/remove")
    assert in_use.status_code == 400
    assert "工事1件と1人が使っているため削除できません" in in_use.get_data(as_text=True)
    tourism = session.scalar(select(Department).where(Department.name == "観光課"))
    assert client.post(f"/admin/users/departments/{tourism.id}/remove").status_code == 303
    assert session.scalar(select(Department).where(Department.name == "観光課")) is None
    assert [(e.action, e.user_id, e.detail) for e in events(session)] == [
        ("department_added", None, {"name": "観光課"}),
        ("department_renamed", None, {"old": "農林課", "new": "農林振興課", "works": 1}),
        ("department_removed", None, {"name": "観光課"}),
    ]
    page = client.get("/admin/users").get_data(as_text=True)
    assert "担当課の名前の変更" in page and "担当課の削除" in page


def test_an_admin_sends_a_reset_link(app, client, as_admin, admin, make_user, session):
    staff = make_user("staff", login="sato", email="sato@example.jp", password_hash="x")
    nomail = make_user("staff", login="nomail", password_hash="x")
    with mails(app) as mailbox:
        assert client.post(f"/admin/users/{staff.id}/reset").status_code == 303
        refused = client.post(f"/admin/users/{nomail.id}/reset")
    assert refused.status_code == 400 and "メールアドレスがありません" in refused.get_data(
        as_text=True
    )
    [message] = mailbox.to("sato@example.jp")
    assert "/account/reset/" in message.get_content()
    [sent] = events(session)
    assert (sent.action, sent.actor_id, sent.user_id, sent.detail) == (
        "reset_sent",
        admin.id,
        staff.id,
        {},
    )


def test_the_audit_pages_newest_first_and_never_hold_a_secret(
    app, client, as_admin, admin, make_user, session
):
    staff = make_user("staff", login="sato", email="sato@example.jp")
    with mails(app) as mailbox:
        client.post("/admin/users/invite", data=invite_form())
        for _ in range(26):
            client.post(f"/admin/users/{staff.id}/deactivate")
            client.post(f"/admin/users/{staff.id}/reactivate")
    tokens = [token_in(m) for m in mailbox.to("tanaka@example.jp")]
    page = client.get("/admin/users").get_data(as_text=True)
    assert page.count("<time") >= 20 and "すべての変更の記録を見る" in page
    first = client.get("/admin/users/audit").get_data(as_text=True)
    second = client.get("/admin/users/audit?page=2").get_data(as_text=True)
    assert first.index("利用再開") < first.index("利用停止")  # newest first
    assert "招待" in second and "招待" not in first.split("<main")[1].split("利用者の管理に戻る")[1]
    assert "?page=2" in first and "?page=1" in second
    stored = " ".join(str(e.detail) for e in events(session))
    for secret in tokens:
        assert secret not in stored and secret not in page + first + second
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_the_forms_need_the_csrf_token(csrf_app, session, make_user, login_as):
    admin = make_user("admin")
    staff = make_user("staff")
    browser = login_as(admin, csrf_app.test_client())
    refused = browser.post(f"/admin/users/{staff.id}/deactivate")
    assert refused.status_code == 400
    session.refresh(staff)
    assert staff.is_active


def test_deactivating_an_invitee_voids_the_invitation(app, client, as_admin, session):
    with mails(app) as mailbox:
        client.post("/admin/users/invite", data=invite_form())
        invitee = session.scalar(select(User).where(User.login == "tanaka"))
        client.post(f"/admin/users/{invitee.id}/deactivate")
        refused = client.post(f"/admin/users/{invitee.id}/resend")
        assert refused.status_code == 400 and "先に利用を再開" in refused.get_data(as_text=True)
        client.post(f"/admin/users/{invitee.id}/reactivate")
        wait_for_mails()
        first = token_in(mailbox.to("tanaka@example.jp")[0])
        assert client.get(f"/account/join/{first}").status_code == 410  # used up for good
        assert client.post(f"/admin/users/{invitee.id}/resend").status_code == 303
    second = token_in(mailbox.to("tanaka@example.jp")[-1])
    assert client.get(f"/account/join/{second}").status_code == 200
