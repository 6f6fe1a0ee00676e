"""The phone update flow in headless Chromium at 375 px: find the nearest project,
record an update with a photo, then record one without signal and see it sent once."""

import io
import time

from PIL import Image
from playwright.sync_api import expect
from shapely.geometry import Point
from sqlalchemy import func, select

from tests.conftest import MIYAJI_STATION, UCHINOMAKI_STATION
from tracker.projects.history import StatusUpdate

PHONE = {"width": 375, "height": 812}


def camera_jpeg() -> bytes:
    """A small JPEG shot sideways, as phones store them."""
    image = Image.new("RGB", (320, 240), (90, 140, 60))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def recorded(session, project, note: str) -> int:
    """Count the history entries of a project with this note."""
    return session.scalar(
        select(func.count())
        .select_from(StatusUpdate)
        .where(StatusUpdate.project_id == project.id, StatusUpdate.note == note)
    )


def wait_until_kept_offline(page, text: str, seconds: float = 15) -> None:
    """Wait until the copy of this page the service worker keeps for offline use shows text."""
    # Polled from here: wait_for_function takes a returned Promise as a true value at once,
    # so it would not wait for the cache at all.
    shows = (
        "(t) => caches.match(location.href).then(r => r ? r.text() : '').then(h => h.includes(t))"
    )
    deadline = time.monotonic() + seconds
    while not page.evaluate(shows, text):
        assert time.monotonic() < deadline, "the offline copy of the page never showed " + text
        page.wait_for_timeout(100)


def sign_in(page, live_server, client, login_as, user):
    """Put the test client's session cookie, signed in as the user, into the browser."""
    login_as(user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])


def test_field_update_online_then_offline_at_375px(
    live_server, page, session, client, login_as, make_user, make_project, artifacts_dir
):
    near = make_project(name="宮地駅前橋 補修")
    make_project(name="内牧温泉橋 架替", geometry=Point(*UCHINOMAKI_STATION))
    sign_in(page, live_server, client, login_as, make_user("staff", display_name="現場 一郎"))
    lon, lat = MIYAJI_STATION
    page.context.grant_permissions(["geolocation"], origin=live_server)
    page.context.set_geolocation({"latitude": lat + 0.0005, "longitude": lon})
    page.set_viewport_size(PHONE)

    # Nearest first, from the phone's position.
    page.goto(f"{live_server}/staff")
    page.get_by_role("button", name="現在地の近くの事業を探す").click()
    first = page.locator("#project-list li").first
    expect(first).to_contain_text("宮地駅前橋 補修")
    expect(first).to_contain_text("m ·")
    page.screenshot(path=str(artifacts_dir / "staff_nearby_375.png"), full_page=True)
    first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("宮地駅前橋 補修")

    # One form: status, progress, note, a photo.
    page.get_by_label("工事中").check()
    page.locator("#progress").fill("30")
    page.get_by_label("メモ").fill("橋台の型枠が完了")
    page.locator("#photos").set_input_files(
        files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()}]
    )
    page.screenshot(path=str(artifacts_dir / "staff_form_375.png"), full_page=True)
    page.get_by_role("button", name="記録する").click()
    expect(page.locator("#form-message")).to_have_text("記録しました")
    latest = page.locator("#history li").first
    expect(latest).to_contain_text("未着手 → 工事中 30%")
    expect(latest).to_contain_text("橋台の型枠が完了")
    expect(latest).to_contain_text("現場 一郎")
    expect(latest.locator("img")).to_have_count(1)
    expect(page.locator("#now-status")).to_have_text("工事中")
    assert recorded(session, near, "橋台の型枠が完了") == 1
    # The copy of this page kept for offline use now shows that update too.
    wait_until_kept_offline(page, "橋台の型枠が完了")

    # No signal: the update waits on the phone, marked 送信待ち.
    page.context.set_offline(True)
    page.locator("#progress").fill("40")
    page.get_by_label("メモ").fill("電波なしで記録した配筋")
    page.get_by_role("button", name="記録する").click()
    outbox = page.locator("#outbox")
    expect(outbox).to_be_visible()
    expect(outbox).to_contain_text("送信待ち")
    expect(outbox).to_contain_text("電波なしで記録した配筋")
    page.screenshot(path=str(artifacts_dir / "staff_offline_375.png"), full_page=True)
    assert recorded(session, near, "電波なしで記録した配筋") == 0

    # Still without signal, the page opens again (the service worker kept it) and the
    # waiting update is still on the phone.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.active.state)") == "activated"
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("宮地駅前橋 補修")
    expect(outbox).to_contain_text("電波なしで記録した配筋")
    expect(page.locator("#history")).to_contain_text("橋台の型枠が完了")

    # Signal again: it goes by itself, once.
    page.context.set_offline(False)
    expect(outbox).to_be_hidden(timeout=30_000)
    expect(page.locator("#history li").first).to_contain_text("電波なしで記録した配筋")
    expect(page.locator("#history li").first).to_contain_text("進捗 30% → 40%")
    page.screenshot(path=str(artifacts_dir / "staff_sent_375.png"), full_page=True)
    assert recorded(session, near, "電波なしで記録した配筋") == 1
    assert near.id and page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.errors == []


def test_an_update_made_after_signing_out_waits_for_the_next_sign_in(
    csrf_live_server, page, session, client, login_as, make_user, make_project, artifacts_dir
):
    project = make_project(name="宮地駅前橋 補修")
    user = make_user("staff")
    live_server = csrf_live_server
    sign_in(page, live_server, client, login_as, user)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/staff/projects/{project.id}")

    # The phone's sign-in is gone (signed out in another tab, or it ran out) while the
    # form stays open: no CSRF token works now, yet the update is kept, not refused.
    page.context.clear_cookies()
    page.get_by_label("設計中").check()
    page.get_by_label("メモ").fill("詳細設計に着手")
    page.get_by_role("button", name="記録する").click()
    expect(page.locator("#form-message")).to_contain_text("ログインし直すと送信します")
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text("送信待ち")
    expect(outbox).to_contain_text("詳細設計に着手")
    expect(outbox.get_by_role("link", name="ログインし直すと送信します")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "staff_signed_out_375.png"), full_page=True)
    assert recorded(session, project, "詳細設計に着手") == 0

    # Signed in again, it goes by itself, once.
    sign_in(page, live_server, client, login_as, user)
    page.reload()
    expect(outbox).to_be_hidden(timeout=30_000)
    expect(page.locator("#history li").first).to_contain_text("詳細設計に着手")
    assert recorded(session, project, "詳細設計に着手") == 1
    assert page.errors == []


def test_a_project_page_opened_before_the_worker_took_over_is_kept_for_offline_use(
    live_server, page, session, client, login_as, make_user, make_project
):
    project = make_project(name="宮地駅前橋 補修")
    sign_in(page, live_server, client, login_as, make_user("staff"))
    page.set_viewport_size(PHONE)
    # The first visit: straight on to a project while the worker is still installing, so
    # the page loads without it and none of its own requests pass through it.
    page.goto(f"{live_server}/staff/")
    page.goto(f"{live_server}/staff/projects/{project.id}")
    expect(page.locator("html")).to_have_attribute("data-offline-copy", "kept", timeout=15_000)
    wait_until_kept_offline(page, "宮地駅前橋 補修")

    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("宮地駅前橋 補修")
    page.context.set_offline(False)
