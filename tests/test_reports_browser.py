"""Reports in Chromium: a report made offline on a 375 px phone arrives once when the signal
returns, staff make a work of it, its reporter is told once, and the public map shows it;
a report without JavaScript; axe-core on every report page in both languages and widths."""

import io
import re
import time

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import local_only, serving, watched_page
from tests.smtp_server import smtp_server
from tests.test_accessibility import WIDTHS, check
from tests.test_reports import jpeg_with_gps
from tests.test_staff_outbox_browser import go_offline
from tracker.reports.models import Open311Key, Report
from tracker.reports.staff import key_hash

PUBLIC_URL = "https://tracker.example.jp"


KEPT = """(path) => caches.keys()
  .then((keys) => Promise.all(keys.map((k) => caches.open(k).then((c) => c.match(path)))))
  .then((hits) => hits.some(Boolean))"""


def wait_until_kept(page, path: str) -> None:
    """Wait until the service worker has kept the page (polled from here: wait_for_function
    would take the returned Promise as true at once)."""
    deadline = time.monotonic() + 15
    while not page.evaluate(KEPT, path):
        assert time.monotonic() < deadline, "the service worker never kept the page"
        page.wait_for_timeout(100)


def send_mails(app) -> None:
    result = app.test_cli_runner().invoke(args=["send-report-mails"])
    assert result.exit_code == 0, result.output


def staff_cookie(client, login_as, make_user) -> str:
    login_as(make_user("staff"))
    return client.get_cookie("session").value


def test_an_offline_report_arrives_once_and_follows_its_work(
    app, browser, session, client, login_as, make_user
):
    cookie = staff_cookie(client, login_as, make_user)
    with smtp_server() as (mailbox, url), serving(app) as base:
        app.config.update(SMTP_URL=url, PUBLIC_URL=PUBLIC_URL, MAIL_FROM="alerts@city.example.jp")
        phone = browser.new_context(
            viewport={"width": 375, "height": 800}, has_touch=True, locale="ja-JP"
        )
        phone.route("**/*", local_only)
        page = watched_page(phone)
        page.goto(base + "/report")
        # The first visit keeps the page on the phone; later it opens without signal.
        wait_until_kept(page, "/report")
        go_offline(page)
        page.goto(base + "/report")
        page.wait_for_selector("#report-map .leaflet-tile-pane", state="attached")
        page.get_by_label("道路の陥没・損傷").check()
        page.select_option("#report-place", "d-uchinomaki")
        page.set_input_files(
            "#report-photos",
            files=[{"name": "road.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}],
        )
        page.fill("#report-description", "道路が幅1 mほど陥没しています")
        page.fill("#report-email", "resident@example.jp")
        page.locator("#report-form button.primary").click()
        page.wait_for_selector("#report-outbox:not([hidden])")
        assert "保存しました" in page.inner_text("#report-outbox")
        assert session.scalar(select(func.count()).select_from(Report)) == 0
        stored = page.evaluate(
            """() => new Promise((resolve) => {
                 const open = indexedDB.open("aso-reports", 1);
                 open.onsuccess = () => {
                   const all = open.result.transaction("outbox").objectStore("outbox").getAll();
                   all.onsuccess = () => resolve(all.result.map((i) =>
                     Object.fromEntries(i.fields.filter((f) => f[0] !== "csrf_token"))));
                 };
               })"""
        )
        assert len(stored) == 1 and stored[0]["made_at"]

        phone.set_offline(False)
        page.wait_for_url(re.compile(r"/report/thanks/\d+"), timeout=20000)
        page.reload()  # a reload finds the outbox empty: nothing is sent twice
        page.wait_for_timeout(300)
        reports = session.scalars(select(Report)).all()
        assert len(reports) == 1
        report = reports[0]
        assert report.client_id == stored[0]["client_id"]
        assert (
            report.made_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            == stored[0]["made_at"]
        )
        assert report.category_code == "road" and len(report.photos) == 1

        send_mails(app)
        confirm = mailbox.messages[0].get_body(preferencelist=("plain",)).get_content()
        link = next(w for w in confirm.split() if "/reports/confirm/" in w).replace(
            PUBLIC_URL, base
        )
        page.goto(link)
        page.get_by_role("button", name="メールアドレスを確認する").click()
        page.wait_for_selector("text=確認しました")

        desk = browser.new_context(viewport={"width": 375, "height": 800}, has_touch=True)
        desk.route("**/*", local_only)
        desk.add_cookies([{"name": "session", "value": cookie, "url": base}])
        staff = watched_page(desk)
        staff.goto(base + "/staff/reports")
        staff.get_by_role("link", name=re.compile(f"受付番号 {report.id}")).click()
        staff.fill("#create-name", "内牧 道路陥没 復旧")
        staff.select_option("#create-kind", "road")
        staff.select_option("#create-department", "建設課")
        staff.get_by_role("button", name="工事を作る").click()
        staff.wait_for_selector("text=工事を作成しました")
        send_mails(app)
        send_mails(app)
        news = [m for m in mailbox.messages if "対応中" in m["Subject"]]
        assert len(news) == 1 and news[0]["To"] == "resident@example.jp"

        page.goto(base + "/reports")
        page.wait_for_selector(".report-marker")
        listed = page.inner_text(".report-list")
        assert "対応中" in listed and "resident@example.jp" not in page.content()
        src = (
            page.locator(".report-item img").first.get_attribute("src").replace("thumb", "display")
        )
        served = page.request.get(base + src)
        with Image.open(io.BytesIO(served.body())) as image:
            assert not image.getexif() and "exif" not in image.info
        assert b"TestCam" not in served.body()
        phone.close()
        desk.close()


def test_a_report_by_named_place_without_javascript(app, browser, session):
    with serving(app) as base:
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": 375, "height": 800}
        )
        context.route("**/*", local_only)
        page = watched_page(context)
        page.goto(base + "/report")
        assert page.locator("#report-map-tools").is_hidden()
        page.get_by_label("倒木").check()
        page.select_option("#report-place", "d-miyaji")
        page.fill("#report-description", "倒木が道をふさいでいます")
        page.locator("#report-form button.primary").click()
        page.wait_for_url(re.compile(r"/report/thanks/\d+"))
        assert "通報を受け付けました" in page.inner_text("h1")
        report = session.scalar(select(Report))
        assert report.category_code == "tree" and report.place_key == "d-miyaji"
        context.close()


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_report_pages_pass_axe_and_speak_one_language(
    app, browser, session, client, login_as, make_user, lang, size
):
    width = WIDTHS[size]
    admin = app.test_client()
    login_as(make_user("admin"), admin)
    admin_cookie = admin.get_cookie("session").value
    cookie = staff_cookie(client, login_as, make_user)
    resident = app.test_client()
    resident.post(
        "/report", data={"category": "road", "place": "d-uchinomaki", "description": "陥没"}
    )
    resident.post(
        "/report",
        data={
            "category": "slope",
            "place": "d-miyaji",
            "description": "落石",
            "email": "a@example.jp",
        },
    )
    first, second = session.scalars(select(Report).order_by(Report.id)).all()
    client.post(f"/staff/reports/{first.id}/accept", data={"answer": "現地を確認します"})
    session.add(Open311Key(name="FixMyStreet", key_hash=key_hash("k")))
    session.flush()
    report, problems = [], []
    with serving(app) as base:
        context = browser.new_context(
            viewport={"width": width, "height": 800}, has_touch=width < 600
        )
        context.route("**/*", local_only)
        context.add_cookies([{"name": "lang", "value": lang, "url": base}])
        page = watched_page(context)
        for name, path in [
            ("report form", "/report"),
            ("report: thanks", f"/report/thanks/{first.id}"),
            ("reports: public", "/reports"),
            ("report: accepted", f"/reports/{first.id}"),
            ("report: not yet accepted", f"/reports/{second.id}"),
        ]:
            page.goto(base + path)
            check(page, name, lang, width, report, problems)
        # A refusal and a possible duplicate, without JavaScript's help.
        page.goto(base + "/report")
        page.locator("input[name=category][value=road]").check()
        page.evaluate("() => { document.querySelector('#report-map-tools').hidden = true; }")
        page.select_option("#report-place", "d-uchinomaki")
        page.evaluate("() => { document.querySelector('#report-form').noValidate = true; }")
        page.evaluate(
            "() => HTMLFormElement.prototype.submit.call(document.querySelector('#report-form'))"
        )
        page.wait_for_selector(".report-similar h2")
        check(page, "report: a possible duplicate", lang, width, report, problems)
        context.add_cookies([{"name": "session", "value": cookie, "url": base}])
        for name, path in [
            ("staff: reports", "/staff/reports"),
            ("staff: report", f"/staff/reports/{first.id}"),
            ("staff: Open311 keys", "/staff/reports/keys"),
        ]:
            page.goto(base + path)
            check(page, name, lang, width, report, problems)
        context.add_cookies([{"name": "session", "value": admin_cookie, "url": base}])
        page.goto(base + "/admin/report-categories")
        check(page, "admin: report categories", lang, width, report, problems)
        context.close()
    assert problems == [], "\n".join(problems)
