"""The links in alert mails: a confirmation link for 48 hours after its mail, a manage link
for 30 days and a new one by mail, an unsubscribe link for as long as the subscription
lives; and one mailbox counted once, whatever +tag or Gmail dots its address carries."""

import importlib.util
import logging
import re
from datetime import timedelta

import pytest
import time_machine
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select, text

from config import ROOT
from tests.smtp_server import smtp_server
from tests.test_alerts import (
    PUBLIC_URL,
    path_of,
    road_near_uchinomaki,
    send,
    subscribe,
    text_part,
)
from tracker.alerts.addresses import canonical_address
from tracker.alerts.models import AlertDelivery, AlertRequest, AlertSubscription
from tracker.alerts.tokens import token_for
from tracker.core import clock
from tracker.restrictions.operations import add_restriction

CONFIRM_LINK = re.compile(rf"{PUBLIC_URL}/alerts/confirm/\S+")
MANAGE_LINK = re.compile(rf"{PUBLIC_URL}/alerts/manage/\S+")


@pytest.fixture
def mail(app):
    """A real SMTP server in this process; the app sends to it."""
    with smtp_server() as (mailbox, url):
        app.config.update(SMTP_URL=url, PUBLIC_URL=PUBLIC_URL, MAIL_FROM="alerts@city.example.jp")
        yield mailbox


def later(**delta):
    """Travel that far ahead of now, the clock standing still."""
    return time_machine.travel(clock.now() + timedelta(**delta), tick=False)


def subscription(session, email):
    return session.scalar(select(AlertSubscription).where(AlertSubscription.email == email))


def confirmed_by_mail(app, client, session, mail, email, **fields):
    """Subscribe through the form and follow the confirmation mail's link; return the row."""
    subscribe(client, email, **fields)
    send(app)
    confirmation = [m for m in mail.to(email) if "/alerts/confirm/" in text_part(m)][-1]
    link = CONFIRM_LINK.search(text_part(confirmation)).group(0)
    assert client.post(path_of(link)).status_code == 303
    return subscription(session, email)


def alert_mail_for(app, session, mail, make_project, email):
    """Announce a restriction near 内牧 and return the alert mail that reached `email`."""
    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    add_restriction(session, road, kind="closed", starts_on=clock.today(), description="通行止め")
    send(app)
    return [m for m in mail.to(email) if "通行止め" in text_part(m)][-1]


# --- Confirmation links ------------------------------------------------------------------------


def test_a_confirmation_link_works_for_48_hours_and_then_offers_to_ask_again(
    app, client, session, mail
):
    subscribe(client, "early@example.jp")
    subscribe(client, "late@example.jp", remote="192.0.2.2")
    send(app)
    early = CONFIRM_LINK.search(text_part(mail.to("early@example.jp")[0])).group(0)
    late = CONFIRM_LINK.search(text_part(mail.to("late@example.jp")[0])).group(0)
    assert early != late

    with later(hours=47):
        assert client.get(path_of(late)).status_code == 200
        done = client.post(path_of(early))
        assert done.status_code == 303 and "/alerts/manage/" in done.headers["Location"]
        assert subscription(session, "early@example.jp").confirmed_at is not None

    with later(hours=49):
        page = client.get(path_of(late))
        words = page.get_data(as_text=True)
        assert page.status_code == 410
        assert "確認の期限が切れています" in words and "48時間が過ぎた" in words
        assert '<a href="/alerts/new">もう一度申し込む</a>' in words
        english = client.get(path_of(late).split("?")[0] + "?lang=en").get_data(as_text=True)
        assert "The confirmation link has expired" in english
        assert "More than 48 hours have passed since the confirmation mail was sent" in english
        assert '<a href="/alerts/new">Ask again</a>' in english
        assert client.post(path_of(late)).status_code == 410
        assert subscription(session, "late@example.jp").confirmed_at is None

        # The expired link of a confirmed subscription offers a new manage link instead.
        expired = client.get(path_of(early))
        assert expired.status_code == 410
        assert "新しいリンクをメールで受け取る" in expired.get_data(as_text=True)

        assert "unconfirmed requests deleted after 48 hours: 1" in send(app)
        assert subscription(session, "late@example.jp") is None
        assert subscription(session, "early@example.jp") is not None


def test_a_confirmation_mail_sent_late_gives_its_link_48_hours_from_the_mail(
    app, client, session, mail
):
    smtp_url = app.config["SMTP_URL"]
    app.config.update(SMTP_URL="")
    subscribe(client, "delayed@example.jp")
    with later(hours=30):
        send(app)  # no mail server yet: the mail waits
    app.config.update(SMTP_URL=smtp_url)
    with later(hours=31):
        send(app)
    (confirmation,) = mail.to("delayed@example.jp")
    link = path_of(CONFIRM_LINK.search(text_part(confirmation)).group(0))

    with later(hours=31 + 47):  # 78 hours after the request, 47 after the mail
        assert "unconfirmed requests deleted after 48 hours: 0" in send(app)
        assert client.get(link).status_code == 200
    with later(hours=31 + 49):
        assert client.get(link).status_code == 410
        assert "unconfirmed requests deleted after 48 hours: 1" in send(app)


# --- Manage links ------------------------------------------------------------------------------


def test_a_manage_link_expires_after_30_days_and_a_new_one_comes_by_mail(
    app, client, session, mail, make_project
):
    sub = confirmed_by_mail(app, client, session, mail, "Keep+Alerts@example.jp")
    alert = alert_mail_for(app, session, mail, make_project, "Keep+Alerts@example.jp")
    manage = path_of(MANAGE_LINK.search(text_part(alert)).group(0))

    with later(days=29):
        assert client.get(manage).status_code == 200

    with later(days=31):
        page = client.get(manage)
        words = page.get_data(as_text=True)
        assert page.status_code == 410
        assert "このリンクの期限が切れています" in words
        assert "メールをお送りしてから30日間使えます" in words
        english = client.get(manage.split("?")[0] + "?lang=en")
        assert "This link has expired" in english.get_data(as_text=True)
        assert "Send me a new link" in english.get_data(as_text=True)
        # Nor can an expired link change anything.
        changed = client.post(manage, data={"topics": ["status"], "frequency": "daily"})
        assert changed.status_code == 410
        session.refresh(sub)
        assert sub.frequency == "standard"

        renew = re.search(r'action="(/alerts/links/[^"]+)"', words).group(1)
        asked = client.post(renew)
        assert asked.status_code == 303 and asked.headers["Location"] == "/alerts/link-sent"
        sent_page = client.get("/alerts/link-sent").get_data(as_text=True)
        assert "新しいリンクをお送りします" in sent_page and "この登録がまだあれば" in sent_page
        assert "keep" not in sent_page.lower()

        send(app)
        (renewal,) = [m for m in mail.messages if "設定用のリンク" in m["Subject"]]
        assert renewal["To"] == "Keep+Alerts@example.jp"  # as typed
        assert renewal["Subject"] == "[阿蘇市] お知らせメールの設定用のリンク"
        assert renewal["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        body = text_part(renewal)
        assert "30日間有効です" in body and "内牧から1 km以内" in body
        fresh = path_of(MANAGE_LINK.search(body).group(0))
        assert "Keep+Alerts@example.jp" in client.get(fresh).get_data(as_text=True)

    with later(days=31 + 29):
        assert client.get(fresh).status_code == 200
    with later(days=31 + 31):
        assert client.get(fresh).status_code == 410


def test_a_new_manage_link_in_english_and_the_same_answer_for_a_subscription_gone(
    app, client, session, mail
):
    sub = confirmed_by_mail(app, client, session, mail, "alex@example.jp", lang="en")
    kept = confirmed_by_mail(app, client, session, mail, "kept@example.jp")
    with app.test_request_context():
        expired_link = token_for("manage", sub)
        kept_link = token_for("manage", kept)
        unsubscribe_token = token_for("unsubscribe", sub)
        kept_unsubscribe = token_for("unsubscribe", kept)

    # From the unsubscribe page, too, one can ask for a way to change the settings instead.
    page = client.get(f"/alerts/unsubscribe/{unsubscribe_token}?lang=en").get_data(as_text=True)
    assert "Send me a link to my settings" in page
    assert f'action="/alerts/links/{unsubscribe_token}"' in page

    answers = []
    with later(days=31):
        answers.append(client.post(f"/alerts/links/{expired_link}"))
        client.post(
            f"/alerts/unsubscribe/{kept_unsubscribe}", data={"List-Unsubscribe": "One-Click"}
        )
        answers.append(client.post(f"/alerts/links/{kept_link}"))  # its subscription is gone
        send(app)
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    (renewal,) = [m for m in mail.messages if "settings" in m["Subject"]]
    assert renewal["To"] == "alex@example.jp"
    assert renewal["Subject"] == "[Aso City] A link to your e-mail alert settings"
    body = text_part(renewal)
    assert "To change or delete your alerts, open this link (it works for 30 days):" in body
    assert "阿蘇市" not in body
    # The one whose subscription was gone got nothing but its confirmation.
    assert all("/alerts/confirm/" in text_part(m) for m in mail.to("kept@example.jp"))
    sent_page = client.get("/alerts/link-sent?lang=en").get_data(as_text=True)
    assert "We will send you a new link" in sent_page
    assert "If these alerts still exist, a new link to change them is on its way" in sent_page

    # A forged token is none of ours.
    assert client.post("/alerts/links/forged.token").status_code == 404


def test_new_manage_links_are_limited_per_address_and_per_client(app, client, session, mail):
    sub = confirmed_by_mail(app, client, session, mail, "often@example.jp")
    with app.test_request_context():
        link = token_for("manage", sub)
    # The confirmation was one of today's 5 mails the forms may send this address.
    for n in range(6):
        assert client.post(f"/alerts/links/{link}",
                           environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code == 303  # fmt: skip
        send(app)
    renewals = [m for m in mail.to("often@example.jp") if "設定用のリンク" in m["Subject"]]
    assert len(renewals) == 4

    # One client asking again and again is stopped, with a message.
    for _n in range(10):
        client.post(f"/alerts/links/{link}", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    refused = client.post(f"/alerts/links/{link}", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert refused.status_code == 429 and "1時間ほどしてから" in refused.get_data(as_text=True)


# --- Unsubscribe links -------------------------------------------------------------------------


def test_unsubscribing_from_an_old_mail_works_one_click_and_from_the_page(
    app, csrf_app, client, session, mail, make_project
):
    confirmed_by_mail(app, client, session, mail, "oneclick@example.jp")
    confirmed_by_mail(app, client, session, mail, "bypage@example.jp", remote="192.0.2.2")
    alerts = {
        email: alert_mail_for(app, session, mail, make_project, email)
        for email in ("oneclick@example.jp", "bypage@example.jp")
    }

    with later(days=400):
        # The mail program's one POST (RFC 8058): no cookie, no CSRF token.
        one_click = alerts["oneclick@example.jp"]
        url = re.fullmatch(r"<(https://[^>]+)>", one_click["List-Unsubscribe"]).group(1)
        mail_program = csrf_app.test_client()
        done = mail_program.post(
            path_of(url),
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert done.status_code == 200 and "配信を停止しました" in done.get_data(as_text=True)
        assert subscription(session, "oneclick@example.jp") is None

        # The link in the text, opened in a browser: a page with the button.
        by_page = text_part(alerts["bypage@example.jp"])
        link = path_of(re.search(rf"{PUBLIC_URL}/alerts/unsubscribe/\S+", by_page).group(0))
        page = client.get(link)
        assert page.status_code == 200 and "配信を停止する" in page.get_data(as_text=True)
        assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        assert subscription(session, "bypage@example.jp") is None


def test_a_link_names_its_subscription_and_works_for_its_purpose_only(
    app, client, session, mail, make_project
):
    first = confirmed_by_mail(app, client, session, mail, "again@example.jp")
    with app.test_request_context():
        unsubscribe = token_for("unsubscribe", first)
        manage = token_for("manage", first)
        confirm = token_for("confirm", first)
    # The unsubscribe link never expires, so it opens no settings (they show the address).
    assert client.get(f"/alerts/manage/{unsubscribe}").status_code == 404
    assert client.get(f"/alerts/unsubscribe/{manage}").status_code == 404
    assert client.get(f"/alerts/unsubscribe/{confirm}").status_code == 404

    client.post(f"/alerts/unsubscribe/{unsubscribe}", data={"List-Unsubscribe": "One-Click"})
    second = confirmed_by_mail(app, client, session, mail, "again@example.jp", remote="192.0.2.9")
    # The old links belong to the subscription deleted, not to the new one.
    assert client.get(f"/alerts/manage/{manage}").status_code == 404
    assert client.get(f"/alerts/unsubscribe/{unsubscribe}").status_code == 404
    client.post(f"/alerts/unsubscribe/{unsubscribe}", data={"List-Unsubscribe": "One-Click"})
    assert subscription(session, "again@example.jp").id == second.id


def test_links_mailed_before_links_had_purposes_still_unsubscribe_and_nothing_more(
    app, client, session, mail
):
    sub = confirmed_by_mail(app, client, session, mail, "old@example.jp")
    old = URLSafeSerializer(app.config["SECRET_KEY"], salt="alert-subscription").dumps(sub.id)
    with later(days=200):
        # Settings: expired, with a new link a click away.
        page = client.get(f"/alerts/manage/{old}")
        assert page.status_code == 410
        assert f'action="/alerts/links/{old}"' in page.get_data(as_text=True)
        # Confirming: the old rule, 48 hours from the request, has long passed.
        assert client.get(f"/alerts/confirm/{old}").status_code == 410
        # Unsubscribing: the page and the one-click POST both work.
        assert client.get(f"/alerts/unsubscribe/{old}").status_code == 200
        done = client.post(f"/alerts/unsubscribe/{old}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
    assert subscription(session, "old@example.jp") is None


# --- One mailbox, one address ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("victim+1@example.jp", "victim@example.jp"),
        ("Victim+news+x@Example.JP", "victim@example.jp"),
        ("v.i.c.t.i.m@gmail.com", "victim@gmail.com"),
        ("V.ictim+alerts@GoogleMail.com", "victim@gmail.com"),
        ("v.i.c.t.i.m@example.jp", "v.i.c.t.i.m@example.jp"),  # dots count elsewhere
        ("+only@example.jp", "+only@example.jp"),
    ],
)
def test_the_canonical_form_of_an_address(typed, canonical):
    assert canonical_address(typed) == canonical


def test_tags_and_gmail_dots_count_as_one_address_for_the_limits(app, client, session, mail):
    typed = [
        "victim+1@gmail.com",
        "victim+2@gmail.com",
        "v.i.c.t.i.m@gmail.com",
        "Victim@googlemail.com",
        "vic.tim+x@gmail.com",
        "victim+6@gmail.com",
    ]
    for n, email in enumerate(typed):
        assert subscribe(client, email, remote=f"198.51.100.{n}").status_code == 303
    send(app)
    # One mailbox: 5 confirmation mails, each to the address as it was typed.
    assert len(mail.messages) == 5
    assert [m["To"] for m in mail.messages] == typed[:5]
    assert set(session.scalars(select(AlertSubscription.email_canonical))) == {"victim@gmail.com"}


def test_one_subscription_per_mailbox_and_place(app, client, session, mail):
    confirmed_by_mail(app, client, session, mail, "hanako+a@example.jp")
    confirmed_by_mail(app, client, session, mail, "Hanako+b@example.jp", remote="192.0.2.2")
    # Confirming the second replaced the first: the same mailbox, the same place.
    (left,) = session.scalars(select(AlertSubscription.email)).all()
    assert left == "Hanako+b@example.jp"


def test_the_migration_writes_the_same_canonical_form_as_the_app(session):
    spec = importlib.util.spec_from_file_location(
        "al1",
        ROOT / "migrations" / "versions" / "2026_12_06_al1_alert_links_and_canonical_addresses.py",
    )
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    typed = ["victim+1@Example.jp", "V.I.C+t@gmail.com", "a.b@GoogleMail.com", "+x@example.jp",
             "x.y@example.jp", "..@gmail.com"]  # fmt: skip
    session.execute(
        text(
            "INSERT INTO alert_subscriptions (email, email_canonical, lang, project_id, geom,"
            " radius_m, wants_restrictions, wants_start_finish, wants_status, frequency)"
            " SELECT e, '', 'ja', NULL, ST_SetSRID(ST_MakePoint(131.04, 32.97), 4326), 1000, true,"
            " false, false, 'standard' FROM unnest(CAST(:typed AS text[])) AS e"
        ).bindparams(typed=typed)
    )
    session.execute(text(migration.CANONICAL))
    written = session.execute(select(AlertSubscription.email, AlertSubscription.email_canonical))
    rows = {email: canonical for email, canonical in written}
    assert rows == {email: canonical_address(email) for email in typed}


# --- What the logs keep ------------------------------------------------------------------------


def test_no_address_appears_in_the_logs(app, client, session, mail, make_project, caplog):
    caplog.set_level(logging.DEBUG)
    address = "private.person+alerts@example.jp"
    sub = confirmed_by_mail(app, client, session, mail, address)
    alert = alert_mail_for(app, session, mail, make_project, address)
    manage = path_of(MANAGE_LINK.search(text_part(alert)).group(0))
    client.get(manage)
    with later(days=31):
        page = client.get(manage).get_data(as_text=True)
        client.post(re.search(r'action="(/alerts/links/[^"]+)"', page).group(1))
        output = send(app)
    unsubscribe = re.fullmatch(r"<https://[^/]+([^>]+)>", alert["List-Unsubscribe"]).group(1)
    client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})

    assert len(mail.to(address)) == 3  # the confirmation, the alert, the new link
    assert sub.id and subscription(session, address) is None
    # Everything logged but the test's own mail server (which stands for the city's).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "POST" in logged and "/alerts/" in logged
    for said in (logged, output):
        assert "private.person" not in said and "@example.jp" not in said
    # The request log behind the limits keeps keyed hashes only.
    keys = session.scalars(select(AlertRequest.address_key)).all()
    assert keys and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)
    assert session.scalar(
        select(func.count()).select_from(AlertDelivery).where(AlertDelivery.kind == "manage")
    ) == 1  # fmt: skip


def test_a_changed_secret_key_keeps_unsubscribe_links_working_through_its_fallbacks(
    app, client, session, mail
):
    sub = confirmed_by_mail(app, client, session, mail, "rotate@example.jp")
    with app.test_request_context():
        link = token_for("unsubscribe", sub)
    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="a-new-key", SECRET_KEY_FALLBACKS=[])
    assert client.get(f"/alerts/unsubscribe/{link}").status_code == 404
    app.config.update(SECRET_KEY_FALLBACKS=[old_key])
    assert client.get(f"/alerts/unsubscribe/{link}").status_code == 200
    done = client.post(f"/alerts/unsubscribe/{link}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and subscription(session, "rotate@example.jp") is None
