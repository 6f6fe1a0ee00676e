"""Account mails leave only once the request that wrote them is committed, and say nothing
they should not; reset links work once, within their hour; new passwords must be strong."""

import email
import email.policy
from datetime import timedelta

import pytest
import time_machine

from tests.smtp_server import smtp_server
from tracker.accounts.links import issue_link, link_user, send_reset_link, use_link
from tracker.accounts.mail import wait_for_mails
from tracker.accounts.passwords import check_new_password
from tracker.core import clock
from tracker.core.errors import BadInput


def _reset_token(message) -> str:
    body = message.get_content()
    return body.split("/account/reset/")[1].split()[0]


def test_a_reset_mail_leaves_after_commit_and_never_after_rollback(app, session, make_user):
    user = make_user("staff", login="tanaka", email="tanaka@example.jp", display_name="田中")
    with smtp_server() as (mailbox, url):
        app.config["SMTP_URL"] = url
        with app.test_request_context("/"):
            session.commit()
            send_reset_link(session, user)
            session.rollback()
            wait_for_mails()
            assert mailbox.messages == []

            send_reset_link(session, user)
            session.commit()
            wait_for_mails()
    [message] = mailbox.to("tanaka@example.jp")
    assert "パスワードの再設定" in message["Subject"]
    assert "田中 様" in message.get_content()
    token = _reset_token(message)
    assert link_user(session, token, "reset").id == user.id


def test_a_reset_link_works_once_and_not_after_an_hour(app, session, make_user):
    user = make_user("staff", login="sato", email="sato@example.jp")
    with smtp_server() as (mailbox, url):
        app.config["SMTP_URL"] = url
        with app.test_request_context("/"):
            send_reset_link(session, user)
            session.commit()
            send_reset_link(session, user)  # a second request voids the first link
            session.commit()
            wait_for_mails()
    first, second = (_reset_token(m) for m in mailbox.to("sato@example.jp"))
    assert use_link(session, first, "reset") is None
    assert use_link(session, second, "invite") is None  # a reset link is no invitation
    with time_machine.travel(clock.now() + timedelta(minutes=59), tick=False):
        assert use_link(session, second, "reset").id == user.id
        assert use_link(session, second, "reset") is None

    late = issue_link(session, user, "reset")
    with time_machine.travel(clock.now() + timedelta(minutes=61), tick=False):
        assert link_user(session, late, "reset") is None
        assert use_link(session, late, "reset") is None


def test_mail_in_the_persons_language(app, session, make_user):
    user = make_user("staff", login="smith", email="smith@example.org", language="en")
    with smtp_server() as (mailbox, url):
        app.config["SMTP_URL"] = url
        with app.test_request_context("/"):
            send_reset_link(session, user)
            session.commit()
            wait_for_mails()
    [message] = mailbox.messages
    assert "Reset your password" in message["Subject"]
    assert "パスワード" not in message.get_content()


def test_dev_mail_keeps_the_mail_as_a_file(app, session, make_user, tmp_path):
    user = make_user("staff", login="dev", email="dev@example.jp")
    app.config.update(DEV_MAIL=True, DEV_MAIL_DIR=str(tmp_path / "mail"))
    with app.test_request_context("/"):
        send_reset_link(session, user)
        session.commit()
    [kept] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    assert message["To"] == "dev@example.jp" and "/account/reset/" in message.get_content()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short pass", "password_too_short"),
        ("password1234", "password_weak"),
        ("tanaka-ichiro-2024", "password_weak"),  # the person's own login and a year
        ("x" * 257, "password_too_long"),
    ],
)
def test_weak_short_and_personal_passwords_are_refused(app, password, code):
    with app.test_request_context("/"), pytest.raises(BadInput) as refused:
        check_new_password(password, personal=("tanaka-ichiro", "田中 一郎"))
    assert refused.value.code == code and refused.value.field == "password"


def test_a_long_unrelated_passphrase_is_accepted(app):
    with app.test_request_context("/"):
        assert check_new_password("外輪山 kettle umbrella 1987 tide", personal=("tanaka",))
