"""Where people land after signing in: staff and admins on the staff page, anyone else on
the map, and every one of them on the page that asked for the sign-in (`next`)."""

import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import local_only, watched_page
from tracker.core import clock

PASSWORD = "correct horse battery staple"


def sign_in(client, login, next_target=None):
    data = {"login": login, "password": PASSWORD}
    if next_target:
        data["next"] = next_target
    return client.post("/login", data=data)


@pytest.mark.parametrize("role, landing", [("staff", "/staff/"), ("viewer", "/")])
def test_password_sign_in_lands_by_role(app, make_user, role, landing):
    make_user(role, login="tanaka", password=PASSWORD)
    assert sign_in(app.test_client(), "tanaka").headers["Location"] == landing
    # A page that asked for the sign-in wins.
    assert sign_in(app.test_client(), "tanaka", "/plan/costs").headers["Location"] == "/plan/costs"


def test_an_admin_lands_on_the_staff_page_after_the_second_factor(app, make_user):
    secret = pyotp.random_base32()
    make_user("admin", login="kanri", password=PASSWORD, totp_secret=secret)
    client = app.test_client()
    assert sign_in(client, "kanri").headers["Location"] == "/login/verify"
    answer = client.post("/login/verify", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert answer.status_code == 302 and answer.headers["Location"] == "/staff/"


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_staff_sign_in_form_leads_to_the_staff_page_in_chromium(
    live_server, browser, make_user, width, lang
):
    make_user("staff", login="tanaka", password=PASSWORD)
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.route("**/*", local_only)
    page = watched_page(context)
    try:
        page.goto(f"{live_server}/login?lang={lang}")
        page.locator("input[name=login]").fill("tanaka")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(f"{live_server}/staff/")
        expect(page.locator(".nav-user")).to_have_text("tanaka")
        assert page.errors == []
    finally:
        context.close()
