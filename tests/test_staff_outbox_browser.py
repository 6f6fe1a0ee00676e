"""The phone's outbox in headless Chromium: the time on site survives waiting and retries,
a stale form says who changed what, and a refused queued update waits apart for a person."""

import time
from datetime import date, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_staff_browser import PHONE, sign_in
from tracker.core import clock
from tracker.core.clock import JST
from tracker.projects.history import StatusUpdate, append_status


def entry(session, note: str) -> StatusUpdate | None:
    """Return the history entry with this note, read fresh from the database."""
    session.expire_all()
    return session.scalars(select(StatusUpdate).where(StatusUpdate.note == note)).one_or_none()


def local(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def open_form(page, live_server, project) -> None:
    """Open a project's update form and wait until the service worker controls it.

    As on a phone that opened the page with signal: the browser's offline switch only
    reaches a service worker that was already running when it was set. Then wait until the
    page's offline copy is kept: the worker fetches the page once more for it.
    """
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/staff/projects/{project.id}")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    expect(page.locator("html")).to_have_attribute("data-offline-copy", "kept", timeout=15_000)


def go_offline(page) -> None:
    """Cut the signal and wait until the page itself can no longer reach the server.

    The browser's switch reaches the page's requests a moment after it is set; a request
    sent in between would still arrive.
    """
    page.context.set_offline(True)
    # Polled from here: wait_for_function would take the returned Promise as true at once.
    cut = "() => fetch('/staff/csrf.json', {cache: 'no-store'}).then(() => false, () => true)"
    deadline = time.monotonic() + 15
    while not page.evaluate(cut):
        assert time.monotonic() < deadline, "the page still reaches the server"
        page.wait_for_timeout(100)


def queue_offline(page) -> None:
    """Press 記録する without signal and wait until the phone says it kept the update."""
    page.get_by_role("button", name="記録する").click()
    expect(page.locator("#form-message")).to_contain_text("この端末に保存しました")


def test_an_update_queued_offline_keeps_the_phone_time_through_retries(
    live_server, page, session, client, login_as, make_user, make_project, artifacts_dir
):
    project = make_project(name="宮地駅前橋 補修", created_at=clock.now() - timedelta(days=2))
    sign_in(page, live_server, client, login_as, make_user("staff", display_name="現場 一郎"))
    open_form(page, live_server, project)

    # The phone's clock says 04:16:11 two hours ago when the person presses 記録する.
    phone_time = (clock.now() - timedelta(hours=2)).replace(microsecond=0)
    page.clock.set_fixed_time(phone_time)
    go_offline(page)
    page.get_by_label("設計中").check()
    page.locator("#progress").fill("10")
    page.get_by_label("メモ").fill("電波なしで測量を確認")
    queue_offline(page)
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text("送信待ち")
    expect(outbox).to_contain_text(f"現場での時刻 {local(phone_time)}")

    # Retries while the signal is still gone change nothing.
    for _ in range(2):
        page.evaluate("window.AsoOutbox.flush()")
    expect(outbox).to_contain_text("電波なしで測量を確認")
    assert entry(session, "電波なしで測量を確認") is None

    page.context.set_offline(False)
    expect(outbox).to_be_hidden(timeout=30_000)
    sent = entry(session, "電波なしで測量を確認")
    assert sent.observed_at == phone_time
    assert sent.recorded_at - sent.observed_at > timedelta(hours=1, minutes=59)
    latest = page.locator("#history li").first
    expect(latest).to_contain_text(local(phone_time))
    expect(latest).to_contain_text("受信")
    expect(latest).to_contain_text("未着手 → 設計中 10%")
    page.screenshot(path=str(artifacts_dir / "staff_phone_time_375.png"), full_page=True)
    assert page.errors == []


def test_a_stale_form_says_who_changed_what_and_asks_again(
    live_server, page, session, client, login_as, make_user, make_project, artifacts_dir
):
    project = make_project(
        name="内牧 護岸", status="construction", progress=72, actual_start=date(2026, 4, 1)
    )
    sign_in(page, live_server, client, login_as, make_user("staff"))
    open_form(page, live_server, project)
    expect(page.locator("#now-progress")).to_have_text("72%")

    # Someone else records 74 % while this form still shows 72 %.
    append_status(
        session,
        project.id,
        user=make_user("staff", display_name="阿蘇"),
        status="construction",
        progress=74,
    )
    session.flush()

    page.locator("#progress").fill("73")
    page.get_by_label("メモ").fill("型枠を組みました")
    page.get_by_role("button", name="記録する").click()
    notice = page.locator("#stale-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("阿蘇さんが")
    expect(notice).to_contain_text("74% と記録しました")
    expect(notice).to_contain_text("記録されている値: 工事中 74%")
    expect(page.locator("#now-progress")).to_have_text("74%")
    # What the person typed stays; the entry the notice names is in the list.
    expect(page.locator("#progress")).to_have_value("73")
    expect(page.get_by_label("メモ")).to_have_value("型枠を組みました")
    expect(page.locator("#history li").first).to_contain_text("進捗 72% → 74%")
    expect(page.locator("#history li").first).to_contain_text("阿蘇")
    expect(page.locator("#form-message")).to_be_hidden()
    page.screenshot(path=str(artifacts_dir / "staff_stale_375.png"), full_page=True)
    session.expire_all()
    assert [u.progress for u in project.updates] == [72, 74]

    # Asked again, the person records on the values they now see.
    page.locator("#progress").fill("76")
    page.get_by_role("button", name="記録する").click()
    expect(page.locator("#form-message")).to_have_text("記録しました")
    expect(notice).to_be_hidden()
    expect(page.locator("#history li").first).to_contain_text("進捗 74% → 76%")
    assert page.errors == []


def test_a_refused_queued_update_waits_apart_and_is_edited_and_resent(
    live_server, page, session, client, login_as, make_user, make_project, artifacts_dir
):
    project = make_project(
        name="坂梨 砂防堰堤",
        kind="sabo",
        status="construction",
        progress=72,
        actual_start=date(2026, 4, 1),
        created_at=clock.now() - timedelta(days=5),
    )
    sign_in(page, live_server, client, login_as, make_user("staff"))
    open_form(page, live_server, project)

    phone_time = (clock.now() - timedelta(hours=3)).replace(microsecond=0)
    page.clock.set_fixed_time(phone_time)
    go_offline(page)
    page.locator("#progress").fill("73")
    page.get_by_label("メモ").fill("堰堤の打設 電波なし")
    queue_offline(page)
    expect(page.locator("#outbox")).to_contain_text("堰堤の打設 電波なし")

    # Meanwhile someone with signal records 74 %.
    append_status(
        session,
        project.id,
        user=make_user("staff", display_name="阿蘇"),
        status="construction",
        progress=74,
    )
    session.flush()

    page.context.set_offline(False)
    failed = page.locator("#outbox-failed")
    expect(failed).to_be_visible(timeout=30_000)
    expect(failed).to_contain_text("送れなかった更新")
    expect(failed).to_contain_text("阿蘇さんが")
    expect(failed).to_contain_text("74% と記録しました")
    expect(failed).not_to_contain_text("base_version")
    expect(page.locator("#outbox")).to_be_hidden()
    page.screenshot(path=str(artifacts_dir / "staff_refused_375.png"), full_page=True)
    assert entry(session, "堰堤の打設 電波なし") is None

    # Edit and resend: the form opens with the refused values and the newer state.
    failed.get_by_role("link", name="直して送る").click()
    expect(page.locator("#resend-notice")).to_contain_text(local(phone_time))
    expect(page.locator("#now-progress")).to_have_text("74%")
    expect(page.locator("#progress")).to_have_value("73")
    expect(page.get_by_label("メモ")).to_have_value("堰堤の打設 電波なし")
    page.get_by_role("button", name="記録する").click()
    expect(page.locator("#form-message")).to_have_text("直した更新を送りました")
    expect(failed).to_be_hidden()

    sent = entry(session, "堰堤の打設 電波なし")
    # Seen on site before the 74 %, so it takes its place there and 74 % stays current.
    assert sent.observed_at == phone_time and sent.progress == 73
    session.refresh(project)
    assert project.progress == 74
    assert page.evaluate("window.AsoOutbox.list().then(items => items.length)") == 0
    assert page.errors == []


def test_a_refused_update_can_be_discarded(
    live_server, page, session, client, login_as, make_user, make_project
):
    project = make_project(name="波野 舗装", status="construction", progress=50)
    sign_in(page, live_server, client, login_as, make_user("staff"))
    open_form(page, live_server, project)
    go_offline(page)
    page.locator("#progress").fill("60")
    page.get_by_label("メモ").fill("取り消す更新")
    queue_offline(page)
    expect(page.locator("#outbox")).to_contain_text("取り消す更新")
    append_status(session, project.id, user=make_user(), status="construction", progress=70)
    session.flush()
    page.context.set_offline(False)
    failed = page.locator("#outbox-failed")
    expect(failed).to_be_visible(timeout=30_000)
    page.goto(f"{live_server}/staff/")
    expect(failed).to_contain_text("取り消す更新")
    failed.get_by_role("button", name="取り消す").click()
    expect(failed).to_be_hidden()
    assert entry(session, "取り消す更新") is None
    assert page.errors == []


UNAVAILABLE = (
    "サーバーが利用できません（保守または障害）。更新はこの端末に保存してあり、あとで送信します"
)


def test_a_503_keeps_the_update_says_why_and_waits_as_long_as_retry_after_asks(
    live_server, page, session, client, login_as, make_user, make_project
):
    project = make_project(name="古城 503 橋", created_at=clock.now() - timedelta(days=1))
    sign_in(page, live_server, client, login_as, make_user("staff"))
    # The phone's clock, set to the server's, with timers the test can move on (time still
    # flows by itself meanwhile).
    page.clock.install(time=clock.now())
    open_form(page, live_server, project)

    posts: list[str] = []
    outage = {"on": True}

    def maintenance(route):
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append("503" if outage["on"] else "through")
        if outage["on"]:
            route.fulfill(
                status=503,
                headers={"Retry-After": "120"},
                json={"error": "ただいま利用できません", "code": "unavailable"},
            )
        else:
            route.continue_()

    page.route(f"**/api/projects/{project.id}/updates", maintenance)
    page.get_by_label("設計中").check()
    page.locator("#progress").fill("5")
    page.get_by_label("メモ").fill("保守中に記録")
    page.get_by_role("button", name="記録する").click()

    expect(page.locator("#form-message")).to_have_text(UNAVAILABLE)
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text("保守中に記録")
    expect(outbox.locator(".outbox-error")).to_have_text(UNAVAILABLE)
    assert posts == ["503"]

    # A minute on (the usual retry is every 15 s), and the server is back: the phone still
    # waits the two minutes the server asked for.
    outage["on"] = False
    page.clock.fast_forward("01:00")
    page.evaluate("window.AsoOutbox.flush().then(() => null)")
    assert posts == ["503"]
    assert entry(session, "保守中に記録") is None

    page.clock.fast_forward("01:05")
    expect(outbox).to_be_hidden(timeout=30_000)
    assert posts == ["503", "through"]
    sent = entry(session, "保守中に記録")
    assert (sent.status, sent.progress) == ("design", 5)
    assert page.evaluate("window.AsoOutbox.list().then(items => items.length)") == 0
    assert page.errors == []


def test_the_outbox_says_the_server_is_unavailable_in_english_too(
    client, login_as, make_user, make_project
):
    project = make_project()
    login_as(make_user("staff"))
    english = client.get(f"/staff/projects/{project.id}?lang=en").get_data(as_text=True)
    assert (
        'data-unavailable="The server is unavailable (maintenance or an outage); your update '
        'is kept and will be sent."' in english
    )
