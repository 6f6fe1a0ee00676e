"""The own-account pages in Chromium: axe-core finds no serious or critical problem and each
page speaks one language, in Japanese and English, on a phone and a desktop; the warning
before an idle sign-in ends offers to continue, and says so when it has ended."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import assert_no_csp_violations, local_only, serving, watched_page
from tests.test_accessibility import WIDTHS, check
from tracker.accounts.links import issue_link
from tracker.accounts.operations import create_token


def _browser_page(browser, base, width, lang, cookie=None):
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale="ja-JP", has_touch=width < 600
    )
    context.route("**/*", local_only)
    context.add_cookies([{"name": "lang", "value": lang, "url": base}])
    if cookie is not None:
        context.add_cookies([{"name": "session", "value": cookie, "url": base}])
    return context, watched_page(context)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_account_pages_pass_axe_and_speak_one_language(
    app, browser, session, client, login_as, make_user, lang, size
):
    width = WIDTHS[size]
    user = make_user("staff", login="tanaka", display_name="田中", email="tanaka@example.jp")
    create_token(session, user, name="QGIS")
    other = make_user("staff", login="sato", email="sato@example.jp")
    with app.test_request_context("/"):
        live_link = issue_link(session, other, "reset")
    login_as(user)
    cookie = client.get_cookie("session").value
    data = ("田中", "tanaka", "tanaka@example.jp", "sato", "QGIS")
    report, problems = [], []
    with serving(app) as base:
        context, page = _browser_page(browser, base, width, lang, cookie)
        for name, path in (("account", "/account"), ("tokens", "/account/tokens")):
            page.goto(base + path)
            check(page, name, lang, width, report, problems, data=data)
        page.fill("#name", "QGIS")
        page.locator("form.stacked button[type=submit]").click()
        page.wait_for_selector("#new-token")
        check(page, "token shown once", lang, width, report, problems, data=data)
        assert_no_csp_violations(page)
        context.close()

        context, page = _browser_page(browser, base, width, lang)
        page.goto(base + "/account/forgot")
        check(page, "forgot", lang, width, report, problems)
        page.fill("#identifier", "nobody@example.jp")
        page.locator("form.stacked button[type=submit]").click()
        page.wait_for_selector(".form-done")
        check(page, "forgot: answered", lang, width, report, problems)
        page.goto(f"{base}/account/reset/{live_link}")
        check(page, "reset", lang, width, report, problems, data=data)
        page.goto(f"{base}/account/reset/no-such-link")
        check(page, "reset: gone", lang, width, report, problems)
        assert_no_csp_violations(page)
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_idle_warning_offers_to_continue_and_says_when_the_sign_in_ended(
    app, browser, client, login_as, make_user
):
    # A short idle time, so that the warning comes within the test: at half of it.
    app.config["STAFF_SESSION_IDLE"] = timedelta(seconds=6)
    login_as(make_user("staff"))
    cookie = client.get_cookie("session").value
    with serving(app) as base:
        context, page = _browser_page(browser, base, 1280, "en", cookie)
        page.goto(base + "/account")
        notice = page.get_by_role("alert").filter(has_text="You will soon be signed out")
        expect(notice).to_be_visible(timeout=10_000)
        with page.expect_response("**/account/ping") as pinged:
            notice.get_by_role("button", name="Continue").click()
        assert pinged.value.status == 204
        expect(notice).to_have_count(0)
        # Left alone this time: the notice says the sign-in ended, and the server agrees.
        ended = page.get_by_role("alert").filter(has_text="You were signed out")
        expect(ended).to_be_visible(timeout=15_000)
        expect(ended.get_by_role("link", name="Sign in again")).to_be_visible()
        assert page.request.get(base + "/account/ping").status == 401
        assert page.errors == []
        assert_no_csp_violations(page)
        context.close()
