"""E-mail alerts: double opt-in, matching, sending through a real SMTP server, one-click
unsubscribe, retries, and what never reaches a mail."""

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from shapely.geometry import LineString, Point
from sqlalchemy import func, select, text

from config import ROOT
from tests.conftest import MIYAJI_STATION
from tests.smtp_server import smtp_server
from tracker.alerts.matching import next_digest_at
from tracker.alerts.models import AlertDelivery, AlertSubscription
from tracker.alerts.operations import (
    Choices,
    Target,
    confirm_subscription,
    delete_subscriptions,
    request_subscription,
)
from tracker.alerts.sending import send_alerts
from tracker.city.places import find_place
from tracker.core import clock
from tracker.core.clock import JST
from tracker.core.smtp import SmtpTransport, parse_smtp_url
from tracker.facilities.models import Facility
from tracker.outbox.models import OutboxEvent
from tracker.projects.history import append_status
from tracker.projects.models import Project
from tracker.restrictions.operations import (
    add_restriction,
    change_restriction,
    end_restriction,
)
from tracker.wiring.loaders import load_facilities

UCHINOMAKI = (131.0400, 32.9717)  # the 内牧 district centre in geodata/aso_districts.csv
M_PER_DEG_LAT = 110_940
PUBLIC_URL = "https://tracker.example.jp"
# The mails below tell of restrictions from 1 December 2026: they are written a week before.
WEEK_BEFORE_DECEMBER = datetime(2026, 11, 24, 10, 0, tzinfo=JST)


def north_of_uchinomaki(metres: float) -> Point:
    return Point(UCHINOMAKI[0], UCHINOMAKI[1] + metres / M_PER_DEG_LAT)


def road_near_uchinomaki(metres: float = 300) -> LineString:
    lat = UCHINOMAKI[1] + metres / M_PER_DEG_LAT
    return LineString([(UCHINOMAKI[0], lat), (UCHINOMAKI[0] + 0.003, lat)])


@pytest.fixture
def mail(app):
    """A real SMTP server in this process; the app sends to it."""
    with smtp_server() as (mailbox, url):
        app.config.update(SMTP_URL=url, PUBLIC_URL=PUBLIC_URL, MAIL_FROM="alerts@city.example.jp")
        yield mailbox


def send(app):
    """Run `flask send-alerts` as cron would."""
    result = app.test_cli_runner().invoke(args=["send-alerts"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def subscriber(app, session):
    """Make a confirmed subscription (as if its confirmation link had been followed)."""

    def make(email, *, lang="ja", place="d-uchinomaki", radius=1000, project=None, **choices):
        with app.test_request_context():
            if project is not None:
                target = Target(project_id=project.id)
            else:
                spot = find_place(session, place)
                target = Target(lon=spot.lon, lat=spot.lat, radius_m=radius, place_key=place)
            request_subscription(
                session,
                email=email,
                target=target,
                choices=Choices(
                    topics=choices.get("topics", ("restrictions", "start_finish")),
                    frequency=choices.get("frequency", "standard"),
                    lang=lang,
                ),
                client=f"set-up {email}",
            )
            sub = session.scalar(
                select(AlertSubscription)
                .where(AlertSubscription.email == email)
                .order_by(AlertSubscription.id.desc())
            )
            confirm_subscription(session, sub)
        return sub

    return make


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def subscribe(client, email, *, remote="192.0.2.1", **fields):
    data = {
        "place": "d-uchinomaki",
        "radius": "1000",
        "email": email,
        "topics": ["restrictions", "start_finish"],
        "frequency": "standard",
        "lang": "ja",
    } | fields
    return client.post("/alerts/new", data=data, environ_base={"REMOTE_ADDR": remote})


# --- Subscribing and confirming --------------------------------------------------------------


def test_subscribe_from_near_confirm_by_mail_and_nothing_is_sent_before(
    app, client, session, mail, make_project
):
    road = make_project(name="市道内牧線 復旧", kind="road", geometry=road_near_uchinomaki())
    near = client.get("/near?place=d-uchinomaki&radius=1000").get_data(as_text=True)
    link = re.search(r'href="(/alerts/new\?[^"]+)"', near).group(1).replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert '<option value="d-uchinomaki" selected>内牧</option>' in form
    assert re.search(r'name="radius" value="1000" checked', form)

    answer = subscribe(client, "hanako@example.jp")
    assert answer.status_code == 303 and answer.headers["Location"] == "/alerts/requested"
    assert "確認のメールをお送りします" in client.get("/alerts/requested").get_data(as_text=True)

    # A restriction before the link is followed: only the confirmation mail goes out.
    add_restriction(
        session, road, kind="closed", starts_on=clock.today(), description="全面通行止め"
    )
    send(app)
    assert len(mail.messages) == 1
    confirmation = mail.messages[0]
    assert confirmation["To"] == "hanako@example.jp"
    assert "登録を確認してください" in confirmation["Subject"]
    body = text_part(confirmation)
    assert "内牧から1 km以内" in body and "48時間以内" in body
    confirm_url = re.search(rf"{PUBLIC_URL}/alerts/confirm/\S+", body).group(0)

    # Following the link shows what is to be confirmed; the button confirms it.
    page = client.get(path_of(confirm_url))
    assert page.status_code == 200 and "hanako@example.jp" in page.get_data(as_text=True)
    done = client.post(path_of(confirm_url))
    assert done.status_code == 303 and "done=confirmed" in done.headers["Location"]
    assert "登録しました" in client.get(done.headers["Location"]).get_data(as_text=True)
    sub = session.scalar(
        select(AlertSubscription).where(AlertSubscription.email == "hanako@example.jp")
    )
    assert sub.confirmed_at is not None

    # Nothing from before the confirmation is sent afterwards.
    send(app)
    assert len(mail.messages) == 1


def test_a_point_chosen_on_the_map_carries_over_with_a_radius_that_takes_in_what_near_showed(
    app, client, session, mail, make_project
):
    spot = north_of_uchinomaki(1000)
    near = client.get(f"/near?lat={spot.y}&lon={spot.x}&radius=2000").get_data(as_text=True)
    link = re.search(r'href="(/alerts/new\?[^"]+)"', near).group(1).replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert "地図で選んだ地点" in form
    assert f'name="lat" value="{spot.y}"' in form and f'name="lon" value="{spot.x}"' in form
    # /near showed 2 km; the form offers the smallest choice that covers it.
    assert re.search(r'name="radius" value="3000" checked', form)
    assert not re.search(r'name="radius" value="(500|1000)" checked', form)

    answer = subscribe(client, "map@example.jp", place="", lat=str(spot.y), lon=str(spot.x),
                       radius="3000")  # fmt: skip
    assert answer.status_code == 303
    sub = session.scalar(
        select(AlertSubscription).where(AlertSubscription.email == "map@example.jp")
    )
    lat, lon = session.execute(select(func.ST_Y(sub.geom), func.ST_X(sub.geom))).one()
    assert (round(lat, 6), round(lon, 6), sub.radius_m, sub.place_key) == (
        round(spot.y, 6), round(spot.x, 6), 3000, None,
    )  # fmt: skip
    send(app)
    (confirmation,) = mail.to("map@example.jp")
    assert f"北緯{spot.y:.4f}度・東経{spot.x:.4f}度の地点から3 km以内" in text_part(confirmation)

    # A point far outside the city is refused with a message, and nothing is kept.
    far = subscribe(client, "far@example.jp", place="", lat="33.5", lon="131.0", radius="3000")
    assert far.status_code == 400
    assert "阿蘇市から離れすぎています" in far.get_data(as_text=True)
    assert session.scalar(
        select(func.count()).where(AlertSubscription.email == "far@example.jp")
    ) == 0  # fmt: skip


def test_a_request_not_confirmed_within_48_hours_expires_and_is_deleted(app, client, session, mail):
    subscribe(client, "late@example.jp")
    send(app)
    confirm_url = re.search(r"https://\S+/alerts/confirm/\S+", text_part(mail.messages[0])).group(0)

    with time_machine.travel(clock.now() + timedelta(hours=49), tick=False):
        page = client.get(path_of(confirm_url))
        assert page.status_code == 410 and "48時間が過ぎた" in page.get_data(as_text=True)
        assert client.post(path_of(confirm_url)).status_code == 410

        assert "unconfirmed requests deleted after 48 hours: 1" in send(app)
        assert session.scalar(select(func.count()).select_from(AlertSubscription)) == 0
        # Gone or not, the expired link says the same and offers to ask again.
        page = client.get(path_of(confirm_url))
        assert page.status_code == 410 and 'href="/alerts/new"' in page.get_data(as_text=True)


def test_the_answer_never_tells_whether_an_address_subscribes(client, subscriber):
    subscriber("known@example.jp")
    known = subscribe(client, "known@example.jp")
    unknown = subscribe(client, "stranger@example.jp")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known.get_data() == unknown.get_data()


def test_requests_are_limited_per_address_and_per_client(app, client, session, mail):
    # Six requests for one address from six clients: at most five confirmation mails a day.
    for n in range(6):
        assert subscribe(client, "target@example.jp", remote=f"198.51.100.{n}").status_code == 303
    send(app)
    assert len(mail.to("target@example.jp")) == 5

    # One client asking for many addresses is stopped, with a message.
    for n in range(10):
        assert subscribe(client, f"a{n}@example.jp", remote="203.0.113.9").status_code == 303
    refused = subscribe(client, "a10@example.jp", remote="203.0.113.9")
    assert refused.status_code == 429
    assert "1時間ほどしてから" in refused.get_data(as_text=True)
    assert subscribe(client, "a10@example.jp", remote="203.0.113.10").status_code == 303


def test_a_form_with_mistakes_says_what_is_wrong_and_saves_nothing(client, session):
    answer = subscribe(client, "not an address", topics=[], place="d-nowhere")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "メールアドレスの形式ではありません" in page
    assert "受け取るお知らせを1つ以上選んでください" in page
    assert "場所を一覧から選んでください" in page
    english = subscribe(client.application.test_client(), "x@", lang="fr").get_data(as_text=True)
    assert "メールアドレスの形式ではありません" in english
    assert session.scalar(select(func.count()).select_from(AlertSubscription)) == 0


# --- A restriction near a subscriber -----------------------------------------------------------


@pytest.mark.time_machine(WEEK_BEFORE_DECEMBER)
def test_a_restriction_near_a_subscriber_sends_one_mail_in_each_language_with_one_click_unsubscribe(
    app, csrf_app, client, session, mail, subscriber, make_project, make_user, login_as
):
    road = make_project(
        name="市道内牧線 災害復旧", kind="road", geometry=road_near_uchinomaki(300),
        status="construction",
    )  # fmt: skip
    subscriber("hanako@example.jp", lang="ja")
    subscriber("alex@example.jp", lang="en")
    subscriber("far@example.jp", place="d-namino")  # 波野: far from the road
    for d in session.scalars(select(AlertDelivery)):
        assert d.kind == "confirm"

    login_as(make_user("staff"))
    answer = client.post(
        f"/projects/{road.id}/restrictions",
        data={
            "kind": "closed",
            "starts_on": "2026-12-01",
            "ends_on": "2027-01-16",
            "description": "全面通行止め。迂回路は県道を通ってください",
        },
    )
    assert answer.status_code == 303
    send(app)

    assert len(mail.messages) == 2, [(m["To"], m["Subject"]) for m in mail.messages]
    (ja,) = mail.to("hanako@example.jp")
    (en,) = mail.to("alex@example.jp")

    assert ja["Subject"] == "[阿蘇市] 2026年12月1日から通行止めが始まります（市道内牧線 災害復旧）"
    body = text_part(ja)
    for words in (
        "内牧から1 km以内で、次の変化がありました。",
        "工事: 市道内牧線 災害復旧",
        "規制: 通行止め",
        "期間: 2026年12月1日〜2027年1月16日",
        "内容: 全面通行止め。迂回路は県道を通ってください",
        f"{PUBLIC_URL}/projects/{road.id}?lang=ja",
        f"{PUBLIC_URL}/near?place=d-uchinomaki&radius=1000&lang=ja",
    ):
        assert words in body, words
    assert re.search(r"日時: \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", body)
    assert "通行止め" in html_part(ja) and "<a href=" in html_part(ja)

    assert en["Subject"] == "[Aso City] From 1 December 2026: Road closed (市道内牧線 災害復旧)"
    english = text_part(en)
    for words in (
        "A change within 1 km of Uchinomaki:",
        "Restriction: Road closed",
        "Dates: 1 December 2026 – 16 January 2027",
        "Change or delete your alerts",
        f"{PUBLIC_URL}/near?place=d-uchinomaki&radius=1000&lang=en",
    ):
        assert words in english, words
    assert "内牧から" not in english and "配信を停止する" not in english

    # One-click unsubscribe (RFC 8058): one POST with no cookie and no CSRF token.
    assert ja["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = re.fullmatch(r"<(https://[^>]+)>", ja["List-Unsubscribe"]).group(1)
    assert unsubscribe_url in body
    mail_program = csrf_app.test_client()
    done = mail_program.post(
        path_of(unsubscribe_url),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200
    emails = set(session.scalars(select(AlertSubscription.email)))
    assert emails == {"alex@example.jp", "far@example.jp"}  # the address is gone with it
    # Clicking it again answers the same; the alerts stay stopped.
    assert (
        mail_program.post(
            path_of(unsubscribe_url), data={"List-Unsubscribe": "One-Click"}
        ).status_code
        == 200
    )

    # Lifting it tells the one still subscribed nearby, once.
    restriction_id = session.scalar(text("SELECT max(id) FROM traffic_restrictions"))
    client.post(f"/restrictions/{restriction_id}/end")
    send(app)
    send(app)
    assert len(mail.messages) == 3
    assert mail.messages[-1]["To"] == "alex@example.jp"
    assert mail.messages[-1]["Subject"].startswith("[Aso City] Lifted: Road closed")


@pytest.mark.time_machine(WEEK_BEFORE_DECEMBER)
def test_near_means_the_restrictions_own_line_within_the_radius(
    app, session, mail, subscriber, make_project, make_user
):
    # The works are at Miyaji, far from 内牧; the first closes a section near 内牧.
    far_work = make_project(name="国道212号 法面復旧", kind="road")
    near_work = make_project(name="市道内牧線 舗装", kind="road", geometry=road_near_uchinomaki())
    subscriber("hanako@example.jp", lang="ja")
    subscriber("alex@example.jp", lang="en")
    section = road_near_uchinomaki(400)
    detour = LineString(
        [section.coords[0], (UCHINOMAKI[0], UCHINOMAKI[1] + 0.006), section.coords[1]]
    )
    add_restriction(
        session, far_work, kind="alternating", starts_on=date(2026, 12, 1),
        ends_on=date(2027, 1, 16), days="weekdays", time_from="8:30", time_until="17:00",
        description="片側交互通行", reason="法面の補修", section=section, detour=detour,
        user=make_user("staff"),
    )  # fmt: skip
    # A work near 内牧 whose restriction is drawn at Miyaji is no news here.
    add_restriction(
        session, near_work, kind="closed", starts_on=date(2026, 12, 1), description="通行止め",
        section=LineString([(MIYAJI_STATION[0], MIYAJI_STATION[1]), (MIYAJI_STATION[0] + 0.003, MIYAJI_STATION[1])]),
    )  # fmt: skip
    send(app)

    assert len(mail.messages) == 2, [(m["To"], m["Subject"]) for m in mail.messages]
    (ja,) = mail.to("hanako@example.jp")
    assert ja["Subject"] == (
        "[阿蘇市] 2026年12月1日から片側交互通行が始まります（国道212号 法面復旧）"
    )
    body = text_part(ja)
    for words in (
        "規制: 片側交互通行",
        "期間: 2026年12月1日〜2027年1月16日",
        "時間: 平日 8:30〜17:00",
        "内容: 片側交互通行",
        "理由: 法面の補修",
    ):
        assert words in body, words
    # The section by its length and the place nearest to it; the detour by its length.
    assert "規制区間: 約280 mの区間（内牧から約400 m）" in body
    assert "迂回路: 約650 m（地図の緑の点線）" in body
    assert "通行止め" not in body

    english = text_part(mail.to("alex@example.jp")[0])
    for words in (
        "Restriction: Alternating one-lane traffic",
        "Hours: Weekdays 8:30 – 17:00",
        "Reason: 法面の補修",
    ):
        assert words in english, words
    assert "The restricted section: about 280 m long, about 400 m from Uchinomaki" in english
    assert "Detour: about 650 m (the green dotted line on the map)" in english


@pytest.mark.time_machine(WEEK_BEFORE_DECEMBER)
def test_a_change_tells_what_it_was_before_and_moving_the_line_tells_both_sides(
    app, session, mail, subscriber, make_project, make_user
):
    work = make_project(name="県道 阿蘇公園線 復旧", kind="road")
    subscriber("uchinomaki@example.jp")  # 1 km around 内牧
    subscriber("namino@example.jp", place="d-namino")
    staff = make_user("staff")
    restriction = add_restriction(
        session, work, kind="closed", starts_on=date(2026, 12, 1), ends_on=date(2027, 1, 16),
        description="全面通行止め", section=road_near_uchinomaki(300), user=staff,
    )  # fmt: skip
    send(app)
    assert [m["To"] for m in mail.messages] == ["uchinomaki@example.jp"]

    with app.app_context():
        namino = find_place(session, "d-namino")
    moved = LineString([(namino.lon, namino.lat + 0.002), (namino.lon + 0.003, namino.lat + 0.002)])
    change_restriction(
        session, restriction,
        {"section": moved, "ends_on": date(2027, 1, 31), "time_from": "9:00", "time_until": "16:00"},
        expected_version=restriction.version, user=staff,
    )  # fmt: skip
    send(app)
    # Those by the old line learn it has gone; those by the new one that it has come.
    (left,) = mail.to("uchinomaki@example.jp")[1:]
    (came,) = mail.to("namino@example.jp")
    assert left["Subject"] == "[阿蘇市] 通行止めの内容が変わりました（県道 阿蘇公園線 復旧）"
    body = text_part(came)
    assert "期間: 2026年12月1日〜2027年1月31日（変更前: 2026年12月1日〜2027年1月16日）" in body
    assert "時間: 毎日 9:00〜16:00（変更前: 終日）" in body
    section = (
        "規制区間: 約280 mの区間（波野から約220 m）（変更前: 約280 mの区間（内牧から約300 m））"
    )
    assert section in body and section in text_part(left)

    end_restriction(session, restriction, user=staff)
    send(app)
    assert len(mail.to("uchinomaki@example.jp")) == 2  # the line is no longer near 内牧
    lifted = mail.to("namino@example.jp")[-1]
    assert lifted["Subject"] == "[阿蘇市] 通行止めが解除されました（県道 阿蘇公園線 復旧）"


@pytest.mark.time_machine(WEEK_BEFORE_DECEMBER)
def test_a_mail_sent_later_tells_the_restriction_as_it_was_announced(
    app, session, mail, subscriber, make_project, make_user
):
    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    subscriber("morning@example.jp", frequency="daily")
    staff = make_user("staff")
    restriction = add_restriction(
        session, road, kind="lane", starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 10),
        description="車線規制", user=staff,
    )  # fmt: skip
    change_restriction(
        session, restriction, {"kind": "closed", "description": "全面通行止めに変更"},
        expected_version=restriction.version, user=staff,
    )  # fmt: skip
    send(app)
    session.execute(
        text("UPDATE alert_deliveries SET due_at = :now WHERE kind = 'alert'"),
        {"now": clock.now()},
    )
    send(app)
    (digest,) = mail.messages
    body = text_part(digest)
    added, changed = body.split("■ ")[1:]
    assert added.startswith("2026年12月1日から車線規制が始まります")
    assert "内容: 車線規制\n" in added and "全面通行止め" not in added
    assert changed.startswith("通行止めの内容が変わりました")
    assert "規制: 通行止め（変更前: 車線規制）" in changed
    assert "内容: 全面通行止めに変更（変更前: 車線規制）" in changed


def test_a_subscription_to_one_work_hears_of_it_wherever_it_is(
    app, client, session, mail, subscriber, make_project, make_user
):
    far_road = make_project(name="波野の林道", kind="road")  # at Miyaji, far from 内牧
    form = client.get(f"/projects/{far_road.id}").get_data(as_text=True)
    assert f"/alerts/new?project={far_road.id}" in form
    subscriber("one@example.jp", project=far_road)
    append_status(session, far_road.id, status="construction", progress=5, user=make_user())
    send(app)
    # Works starting are news by default; they wait for the morning digest.
    (delivery,) = session.scalars(select(AlertDelivery).where(AlertDelivery.kind == "alert"))
    assert delivery.digest and delivery.status == "waiting"
    session.execute(
        text("UPDATE alert_deliveries SET due_at = :now WHERE kind = 'alert'"),
        {"now": clock.now()},
    )
    send(app)
    (message,) = mail.to("one@example.jp")
    assert "「波野の林道」" in message["Subject"]
    assert "工事が始まりました" in text_part(message)
    assert "状況: 未着手 → 工事中" in text_part(message)


def test_status_changes_wait_for_the_morning_digest_and_carry_no_internal_notes(
    app, session, mail, subscriber, make_project, make_user
):
    bridge = make_project(name="内牧大橋 補修", geometry=north_of_uchinomaki(200))
    subscriber("all@example.jp", lang="en", topics=("status",))
    staff = make_user()
    append_status(
        session, bridge.id, status="design", progress=0, user=staff, note="内部メモ：予算"
    )
    append_status(session, bridge.id, status="construction", progress=10, user=staff)
    append_status(
        session, bridge.id, status="construction", progress=20, user=staff
    )  # progress only

    send(app)
    assert mail.messages == []
    deliveries = session.scalars(select(AlertDelivery).where(AlertDelivery.kind == "alert")).all()
    assert len(deliveries) == 2
    now = clock.now()
    due = next_digest_at(now)
    assert all(d.due_at == due for d in deliveries)
    assert due.astimezone(JST).hour == 7 and now < due <= now + timedelta(days=1)

    session.execute(
        text("UPDATE alert_deliveries SET due_at = :now WHERE kind = 'alert'"),
        {"now": clock.now()},
    )
    send(app)
    (digest,) = mail.messages
    assert digest["Subject"] == "[Aso City] 2 changes within 1 km of Uchinomaki"
    body = text_part(digest)
    assert "The work’s status has changed" in body and "The work has started" in body
    assert "Status: Not started → In design" in body
    assert "内部メモ" not in digest.as_string() and "予算" not in body
    assert "建設課" not in body  # the department is not for residents' mails


def test_next_digest_is_seven_in_the_morning_in_japan():
    assert next_digest_at(datetime(2026, 11, 29, 6, 59, tzinfo=JST)) == datetime(
        2026, 11, 29, 7, 0, tzinfo=JST
    )
    assert next_digest_at(datetime(2026, 11, 29, 7, 0, tzinfo=JST)) == datetime(
        2026, 11, 30, 7, 0, tzinfo=JST
    )


# --- Only what was committed, only what is public ---------------------------------------------


def test_a_rolled_back_change_sends_nothing(
    app, session, mail, subscriber, make_project, make_user
):
    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    subscriber("watch@example.jp", topics=("restrictions", "status"), frequency="immediate")
    with session.begin_nested() as change:
        add_restriction(
            session, road, kind="closed", starts_on=clock.today(), description="通行止め"
        )
        append_status(session, road.id, status="design", progress=0, user=make_user())
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 2
        change.rollback()

    send(app)
    assert mail.messages == []
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0

    # The same change committed is announced.
    add_restriction(session, road, kind="closed", starts_on=clock.today(), description="通行止め")
    send(app)
    assert len(mail.to("watch@example.jp")) == 1


def test_a_staff_only_project_sends_nothing(
    app, client, session, mail, subscriber, make_project, make_user
):
    hidden = make_project(
        name="内部検討中の市道", kind="road", geometry=road_near_uchinomaki(), is_public=False
    )
    hidden_far = make_project(name="内部検討中の林道", kind="road", is_public=False)  # Miyaji
    subscriber("watch@example.jp", topics=("restrictions", "status"), frequency="immediate")
    restriction = add_restriction(
        session, hidden, kind="closed", starts_on=clock.today(), description="内部の規制"
    )
    end_restriction(session, restriction)
    # Nor does a restriction of one drawn near the subscriber, added or changed.
    drawn = add_restriction(
        session, hidden_far, kind="closed", starts_on=clock.today(), description="内部の規制",
        section=road_near_uchinomaki(),
    )  # fmt: skip
    change_restriction(
        session, drawn, {"description": "内部の規制（変更）"}, expected_version=drawn.version,
        user=make_user(),
    )  # fmt: skip
    append_status(session, hidden.id, status="design", progress=0, user=make_user())
    send(app)
    assert mail.messages == []
    assert session.scalar(select(func.count()).where(AlertDelivery.kind == "alert")) == 0
    # Nor can anyone subscribe to it.
    assert client.get(f"/alerts/new?project={hidden.id}").status_code == 404
    assert "お知らせをメールで" not in client.get(f"/projects/{hidden.id}").get_data(as_text=True)


def test_designated_shelters_are_facilities_and_never_announce_work_started_or_finished(
    app, client, session, mail, make_project, make_user, tmp_path
):
    gym = session.scalars(select(Facility).where(Facility.gsi_common_id == "E4321400003111")).one()
    lon, lat = session.execute(select(func.ST_X(gym.geom), func.ST_Y(gym.geom))).one()
    with app.test_request_context():
        request_subscription(
            session, email="gym@example.jp", target=Target(lon=lon, lat=lat, radius_m=500),
            choices=Choices(("start_finish", "status"), "immediate", "ja"), client="set-up",
        )  # fmt: skip
        confirm_subscription(session, session.scalar(select(AlertSubscription)))
    # The shelter itself is no work: it has no status to start or finish, nor an alerts link.
    assert session.scalar(select(func.count()).where(Project.name == gym.name)) == 0
    page = client.get(f"/facilities/{gym.id}").get_data(as_text=True)
    assert gym.name in page and "お知らせをメールで" not in page

    # Its record kept current from the GSI file (renamed, one withdrawn) tells nobody.
    rows = (ROOT / "geodata" / "aso_shelters_gsi.csv").read_text(encoding="utf-8")
    edited = tmp_path / "shelters.csv"
    edited.write_text(
        rows.replace("一の宮中学校体育館", "一の宮中学校 体育館（新）"), encoding="utf-8"
    )
    assert "1 changed" in load_facilities(session, edited)
    send(app)
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    assert mail.to("gym@example.jp") == []

    # A work done on the shelter is a work: its start is news.
    retrofit = make_project(
        name="一の宮中学校体育館 耐震補強", kind="seismic", geometry=Point(lon, lat),
        facility_id=gym.id,
    )  # fmt: skip
    append_status(session, retrofit.id, status="construction", progress=5, user=make_user())
    send(app)
    (message,) = mail.to("gym@example.jp")
    assert "工事が始まりました" in text_part(message) and "耐震補強" in message["Subject"]


def test_a_project_made_staff_only_before_sending_is_dropped(
    app, session, mail, subscriber, make_project
):
    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    subscriber("watch@example.jp", frequency="daily")
    add_restriction(session, road, kind="closed", starts_on=clock.today(), description="通行止め")
    send(app)  # matched, waiting for the morning
    road.is_public = False
    session.flush()
    session.execute(
        text("UPDATE alert_deliveries SET due_at = :now WHERE kind = 'alert'"),
        {"now": clock.now()},
    )
    send(app)
    assert mail.messages == []
    assert session.scalar(select(AlertDelivery.status).where(AlertDelivery.kind == "alert")) == (
        "cancelled"
    )


# --- Sending: retries, refusals, two senders -------------------------------------------------


def test_a_temporary_refusal_is_retried_later_and_a_permanent_one_is_not(
    app, client, session, mail, subscriber, make_project, make_user, login_as
):
    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    subscriber("busy@example.jp")
    add_restriction(session, road, kind="closed", starts_on=clock.today(), description="通行止め")

    mail.data_replies = ["451 4.3.0 Mailbox busy, try later"]
    assert "to retry: 1" in send(app)
    delivery = session.scalar(select(AlertDelivery).where(AlertDelivery.kind == "alert"))
    session.refresh(delivery)
    assert delivery.status == "waiting" and delivery.attempts == 1
    assert "451" in delivery.last_error
    assert delivery.due_at > clock.now() + timedelta(minutes=4)
    send(app)  # not due yet: backoff
    assert mail.attempts == 1
    session.execute(
        text("UPDATE alert_deliveries SET due_at = :now WHERE kind = 'alert'"),
        {"now": clock.now()},
    )
    assert "mails sent: 1" in send(app)
    assert len(mail.to("busy@example.jp")) == 1 and mail.attempts == 2

    subscriber("gone@example.jp")
    mail.refused["gone@example.jp"] = "550 5.1.1 <gone@example.jp>: No such user"
    add_restriction(session, road, kind="lane", starts_on=clock.today(), description="車線規制")
    output = send(app)
    assert "failed: 1" in output and "mails sent: 1" in output  # busy@ still gets this one
    failed = session.scalar(select(AlertDelivery).where(AlertDelivery.status == "failed"))
    assert "550" in failed.last_error and failed.attempts == 1
    session.execute(
        text("UPDATE alert_deliveries SET due_at = :at"), {"at": clock.now() - timedelta(days=1)}
    )
    attempts = mail.attempts
    send(app)
    assert mail.attempts == attempts and mail.to("gone@example.jp") == []
    assert len(mail.to("busy@example.jp")) == 2

    # The admins' page lists the mail given up, with the server's answer and no address.
    login_as(make_user("admin"))
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert "550 5.1.1 &lt;…@example.jp&gt;: No such user" in page
    assert "gone@example.jp" not in page


def test_an_unreachable_server_leaves_the_queue_as_it_is(app, session, subscriber, make_project):
    from tests.smtp_server import free_port

    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    subscriber("wait@example.jp")
    add_restriction(session, road, kind="closed", starts_on=clock.today(), description="通行止め")
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{free_port()}")
    result = app.test_cli_runner().invoke(args=["send-alerts"])
    assert result.exit_code != 0 and "could not be used" in result.output
    delivery = session.scalar(select(AlertDelivery).where(AlertDelivery.kind == "alert"))
    assert delivery.status == "waiting" and delivery.attempts == 0


def test_without_smtp_url_nothing_leaves_the_machine(app, client, session):
    app.config.update(SMTP_URL="")
    subscribe(client, "quiet@example.jp")
    output = send(app)
    assert "SMTP_URL is not set" in output and "1 mails wait" in output


def test_smtp_url_never_sends_a_password_in_the_clear():
    with pytest.raises(ValueError, match="needs TLS"):
        parse_smtp_url("smtp://user:secret@mail.example.jp:25")
    settings = parse_smtp_url("smtp+starttls://aso%40city:p%40ss@mail.example.jp")
    assert (settings.security, settings.port, settings.username, settings.password) == (
        "starttls", 587, "aso@city", "p@ss",
    )  # fmt: skip
    assert parse_smtp_url("smtps://mail.example.jp").port == 465


def test_two_senders_at_once_send_each_mail_once(database_url, engine, tmp_path):
    """Two send-alerts runs on their own connections, over committed rows (removed after)."""
    import threading

    from sqlalchemy.orm import Session

    from tracker import create_app
    from tracker.projects.models import Project
    from tracker.projects.operations import create_project

    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
         "UPLOAD_DIR": str(tmp_path), "PUBLIC_URL": PUBLIC_URL}
    )  # fmt: skip
    emails = sorted(f"pair{n:02}@example.jp" for n in range(30))
    with Session(engine) as s:
        project_id = create_project(
            s, name="同時送信の市道", kind="road", geometry=road_near_uchinomaki(),
            department="建設課",
        ).id  # fmt: skip
        s.commit()
    try:
        with app.app_context(), Session(engine) as s:
            for email in emails:
                request_subscription(
                    s, email=email, target=Target(project_id=project_id),
                    choices=Choices(("restrictions",), "standard", "ja"), client=f"pair {email}",
                )  # fmt: skip
            s.flush()
            for sub in s.scalars(
                select(AlertSubscription).where(AlertSubscription.email.in_(emails))
            ):
                confirm_subscription(s, sub)
            s.commit()
            add_restriction(
                s, s.get(Project, project_id), kind="closed", starts_on=date(2026, 12, 1),
                description="同時送信の確認",
            )  # fmt: skip
            s.commit()

        with smtp_server() as (mailbox, url):
            mailbox.hold_first = True
            reports = []

            def run():
                with app.app_context():
                    transport = SmtpTransport(parse_smtp_url(url))
                    reports.append(send_alerts(app.extensions["db_sessionmaker"], transport))

            threads = [threading.Thread(target=run) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        alerts = [m for m in mailbox.messages if "同時送信の確認" in text_part(m)]
        assert sorted(m["To"] for m in alerts) == emails
        assert mailbox.overlapped  # both were sending at the same moment
        assert sum(r.queued for r in reports) == len(emails)  # matched once
        assert sum(r.sent for r in reports) == len(emails)
    finally:
        app.extensions["db_engine"].dispose()
        with Session(engine) as s:
            # Deleting the project takes its subscriptions, restriction, events and history.
            ids = select(AlertSubscription.id).where(AlertSubscription.project_id == project_id)
            s.execute(
                AlertDelivery.__table__.delete().where(AlertDelivery.subscription_id.in_(ids))
            )
            s.execute(text("DELETE FROM alert_requests WHERE client LIKE 'pair %'"))
            s.execute(
                text("DELETE FROM project_changes WHERE project_id = :id"), {"id": project_id}
            )
            s.execute(text("DELETE FROM projects WHERE id = :id"), {"id": project_id})
            s.commit()


# --- Managing and counting ----------------------------------------------------------------------


def test_the_manage_link_changes_choices_and_deletes_the_address(app, client, session, mail):
    subscribe(client, "manage@example.jp")
    send(app)
    confirm_url = re.search(r"https://\S+/alerts/confirm/\S+", text_part(mail.messages[0]))
    confirmed = client.post(path_of(confirm_url.group(0)))
    token = confirmed.headers["Location"].split("/alerts/manage/", 1)[1].split("?")[0]
    page = client.get(f"/alerts/manage/{token}?lang=en").get_data(as_text=True)
    assert "manage@example.jp" in page and "within 1 km of Uchinomaki" in page
    saved = client.post(
        f"/alerts/manage/{token}",
        data={"topics": ["status"], "frequency": "daily", "lang": "en"},
    )
    assert saved.status_code == 303
    sub = session.scalar(select(AlertSubscription))
    session.refresh(sub)
    assert (sub.topics, sub.frequency, sub.lang) == (["status"], "daily", "en")
    assert (
        client.post(
            f"/alerts/manage/{token}", data={"frequency": "daily", "lang": "en"}
        ).status_code
        == 400
    )

    # Deleting: the manage page's button goes to the subscription's unsubscribe link.
    page = client.get(f"/alerts/manage/{token}").get_data(as_text=True)
    unsubscribe = re.search(r'action="(/alerts/unsubscribe/[^"]+)"', page).group(1)
    assert "配信を停止する" in client.get(f"{unsubscribe}?lang=ja").get_data(as_text=True)
    assert client.post(unsubscribe).status_code == 400  # not a one-click body
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert session.scalar(select(func.count()).select_from(AlertSubscription)) == 0
    assert client.get(f"/alerts/manage/{token}").status_code == 404
    assert client.get(unsubscribe).status_code == 404
    assert client.get("/alerts/manage/forged.token").status_code == 404


def test_admins_see_counts_per_day_but_no_addresses(
    app, client, session, mail, subscriber, make_user, login_as
):
    subscriber("counted@example.jp")
    subscribe(client, "pending@example.jp")
    send(app)
    login_as(make_user("staff"))
    assert client.get("/admin/alerts").status_code == 403
    login_as(make_user("admin"))
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert "counted@example.jp" not in page and "pending@example.jp" not in page
    today = clock.today().isoformat()
    row = re.search(rf"<th scope=\"row\">{today}</th>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "0", "0"]  # one confirmation mail sent
    assert re.search(r"登録済み</dt><dd>1<", page) and re.search(r"48時間で削除）</dt><dd>1<", page)


def failed_for(session, *addresses) -> list[AlertDelivery]:
    """Return the failed deliveries to these addresses, read fresh."""
    session.expire_all()
    return list(
        session.scalars(
            select(AlertDelivery)
            .join(AlertSubscription, AlertSubscription.id == AlertDelivery.subscription_id)
            .where(AlertDelivery.status == "failed", AlertSubscription.email.in_(addresses))
        )
    )


def fail_a_closure_mail(app, session, mail, subscriber, make_project, *addresses):
    """Give each address a closure alert that its mail server refuses for good."""
    road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
    for address in addresses:
        subscriber(address)
        mail.refused[address] = f"550 5.1.1 <{address}>: No such user"
    add_restriction(session, road, kind="closed", starts_on=clock.today(), description="通行止め")
    send(app)
    mail.refused.clear()
    failed = failed_for(session, *addresses)
    assert len(failed) == len(addresses)
    return failed


def test_an_admin_sends_a_failed_mail_again_and_it_leaves_once_with_the_next_run(
    app, client, session, mail, subscriber, make_project, make_user, login_as
):
    (failed,) = fail_a_closure_mail(
        app, session, mail, subscriber, make_project, "moved@example.jp"
    )
    url = f"/admin/alerts/failed/{failed.id}/retry"
    login_as(make_user("staff"))
    assert client.post(url).status_code == 403
    login_as(make_user("admin"))
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert f'action="{url}"' in page and "送れなかったメールをすべて送り直す" in page

    answer = client.post(url)
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/alerts"
    session.refresh(failed)
    # Waiting from now, its attempts counted again from zero.
    assert (failed.status, failed.attempts) == ("waiting", 0)
    assert failed.due_at <= clock.now() and failed.finished_at is None
    assert "送信待ちに戻しました" in client.get("/admin/alerts").get_data(as_text=True)

    assert "mails sent: 1" in send(app)
    send(app)
    closures = mail.to("moved@example.jp")
    assert len(closures) == 1 and "通行止め" in text_part(closures[0])
    session.refresh(failed)
    assert (failed.status, failed.attempts) == ("sent", 1)

    # Sent now: nothing to send again, and the page says why.
    again = client.post(url)
    assert again.status_code == 400
    assert "送れなかったメールではありません" in again.get_data(as_text=True)
    assert client.post("/admin/alerts/failed/999999/retry").status_code == 400


def test_a_failed_mail_whose_subscription_was_deleted_is_not_sent_again(
    app, client, session, mail, subscriber, make_project, make_user, login_as
):
    fail_a_closure_mail(
        app, session, mail, subscriber, make_project, "kept@example.jp", "left@example.jp"
    )
    (deleted,) = failed_for(session, "left@example.jp")
    delete_subscriptions(session, AlertSubscription.email == "left@example.jp")
    login_as(make_user("admin"))
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert f"/admin/alerts/failed/{deleted.id}/retry" not in page
    assert "登録が削除されたため送れません" in page

    refused = client.post(f"/admin/alerts/failed/{deleted.id}/retry")
    assert refused.status_code == 400
    assert "このメールの登録は削除されたため、送り直せません" in refused.get_data(as_text=True)

    answer = client.post("/admin/alerts/failed/retry")
    assert answer.status_code == 303
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert "送れなかったメール1通を送信待ちに戻しました" in page
    assert "登録が削除されたメール1通は送り直せません" in page
    assert "mails sent: 1" in send(app)
    assert len(mail.to("kept@example.jp")) == 1 and mail.to("left@example.jp") == []
    session.expire_all()
    assert session.get(AlertDelivery, deleted.id).status == "failed"
    english = client.get("/admin/alerts?lang=en").get_data(as_text=True)
    assert "Cannot be sent: the subscription was deleted" in english


def test_starttls_and_login_are_used_when_the_url_asks_for_them(
    app, tmp_path, session, subscriber, make_project
):
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.smtp_server import Mailbox, free_port

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, smtp_session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password, smtp_session.ssl is not None))
        # handled=False: the server itself answers a wrong password with 535.
        return AuthResult(success=auth_data.password == b"s3cret pass", handled=False)

    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True,
        authenticator=authenticator, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        app.config.update(
            SMTP_URL=f"smtp+starttls://aso%40city:s3cret%20pass@127.0.0.1:{port}",
            SMTP_CA_FILE=str(cert),
            PUBLIC_URL=PUBLIC_URL,
        )
        road = make_project(name="市道内牧線", kind="road", geometry=road_near_uchinomaki())
        subscriber("tls@example.jp")
        add_restriction(
            session, road, kind="closed", starts_on=clock.today(), description="通行止め"
        )
        send(app)
        assert len(mailbox.to("tls@example.jp")) == 1
        assert logins == [(b"aso@city", b"s3cret pass", True)]  # after STARTTLS only

        # A refused login stops the run and leaves the mail waiting.
        app.config["SMTP_URL"] = f"smtp+starttls://aso%40city:wrong@127.0.0.1:{port}"
        add_restriction(session, road, kind="lane", starts_on=clock.today(), description="車線規制")
        result = app.test_cli_runner().invoke(args=["send-alerts"])
        assert result.exit_code != 0 and "login refused" in result.output
        assert session.scalar(select(func.count()).where(AlertDelivery.status == "waiting")) == 1
    finally:
        controller.stop()
