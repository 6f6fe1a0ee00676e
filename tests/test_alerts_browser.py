"""Subscribing to e-mail alerts in Chromium with JavaScript turned off."""

from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import local_only
from tracker.alerts.models import AlertSubscription
from tracker.alerts.tokens import token_for


def test_subscribe_and_confirm_without_javascript(browser, live_server, app, session):
    context = browser.new_context(
        java_script_enabled=False, locale="ja-JP", viewport={"width": 375, "height": 740}
    )
    context.route("**/*", local_only)
    page = context.new_page()

    page.goto(f"{live_server}/near?place=d-uchinomaki&radius=500")
    page.get_by_role("link", name="この範囲の通行規制や工事のお知らせをメールで受け取る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("メールでお知らせを受け取る")
    expect(page.get_by_label("場所（地区・駅・名所）")).to_have_value("d-uchinomaki")
    expect(page.get_by_label("500 m")).to_be_checked()
    # Nothing chosen is not allowed: the page says what is missing.
    page.get_by_label("通行規制の開始・変更・解除").uncheck()
    page.get_by_label("工事の開始と完了").uncheck()
    page.get_by_label("メールアドレス").fill("nojs@example.jp")
    page.get_by_label("English").check()
    page.get_by_role("button", name="確認のメールを送る").click()
    expect(page.get_by_role("alert")).to_contain_text("受け取るお知らせを1つ以上選んでください")
    expect(page.get_by_label("メールアドレス")).to_have_value("nojs@example.jp")

    page.get_by_label("工事の状況の変化すべて").check()
    page.get_by_role("button", name="確認のメールを送る").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("確認のメールをお送りします")
    # One column on a phone: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    sub = session.scalar(select(AlertSubscription))
    assert (sub.email, sub.lang, sub.topics, sub.radius_m) == (
        "nojs@example.jp", "en", ["status"], 500,
    )  # fmt: skip
    with app.app_context():
        token = token_for("confirm", sub)
    page.goto(f"{live_server}/alerts/confirm/{token}")
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("status")).to_have_text(
        "登録しました。これからお知らせをお送りします。"
    )
    session.refresh(sub)
    assert sub.confirmed_at is not None
    context.close()


def test_subscribe_to_one_work_from_its_page_without_javascript(
    browser, live_server, session, make_project
):
    road = make_project(name="市道内牧線 復旧", kind="road")
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    context.route("**/*", local_only)
    page = context.new_page()

    page.goto(f"{live_server}/projects/{road.id}?lang=en")
    page.get_by_role("link", name="Get e-mail alerts about this work").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Get e-mail alerts")
    expect(page.get_by_role("link", name="市道内牧線 復旧")).to_be_visible()
    # One work has no place or radius to choose.
    expect(page.get_by_role("group", name="Distance")).to_have_count(0)
    page.get_by_label("E-mail address").fill("work@example.jp")
    page.get_by_label("Every change in a work’s status").check()
    page.get_by_role("button", name="Send the confirmation mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "We will send you a confirmation mail"
    )

    sub = session.scalar(select(AlertSubscription))
    assert (sub.email, sub.lang, sub.project_id, sub.geom, sub.radius_m) == (
        "work@example.jp", "en", road.id, None, None,
    )  # fmt: skip
    assert sub.topics == ["restrictions", "start_finish", "status"]
    context.close()
