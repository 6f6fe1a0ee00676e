"""The whole way in for a new admin, in Chromium: invited from /admin/users, the mail caught by
a real SMTP server, a password chosen from its link, the authenticator app set up before any
session exists, and from then on the password is not enough: the code is asked, and a
recovery code stands in for it once."""

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import local_only, serving, watched_page
from tests.smtp_server import smtp_server
from tests.test_accessibility import sign_in_cookie
from tracker.accounts.mail import wait_for_mails
from tracker.accounts.models import AccountEvent, LoginSession, User
from tracker.core import clock

PASSWORD = "外輪山 kettle umbrella 1987 tide"


def test_an_invited_admin_joins_sets_up_the_app_and_then_needs_the_code(
    csrf_app, browser, session, client, login_as, make_user
):
    inviter = make_user("admin", login="kanri", display_name="管理 花子", email="k@example.jp")
    inviter_cookie = sign_in_cookie(client, login_as, inviter)
    with smtp_server() as (mailbox, smtp_url), serving(csrf_app) as base:
        csrf_app.config["SMTP_URL"] = smtp_url
        context = browser.new_context(locale="ja-JP")
        context.clock.set_system_time(clock.now())
        context.route("**/*", local_only)
        context.add_cookies([{"name": "session", "value": inviter_cookie, "url": base}])
        page = watched_page(context)

        page.goto(base + "/admin/users")
        page.fill("#invite-login", "tanaka")
        page.fill("#invite-name", "田中 一郎")
        page.fill("#invite-email", "tanaka@example.jp")
        page.select_option("#invite-role", "admin")
        page.locator(".invite-form button[type=submit]").click()
        expect(page.locator(".flash")).to_be_visible()
        context.clear_cookies()

        wait_for_mails()
        [mail] = mailbox.to("tanaka@example.jp")
        link = mail.get_content().split(base + "/account/join/")[1].split()[0]
        page.goto(f"{base}/account/join/{link}")
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD)
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator(".form-done")).to_be_visible()
        page.get_by_role("link", name="ログインして2つ目の認証を設定する").click()

        def sign_in() -> None:
            page.fill("#login", "tanaka")
            page.fill("#password", PASSWORD)
            page.locator("form.stacked button[type=submit]").click()

        # An admin's password alone opens no session: the app is set up first.
        sign_in()
        page.wait_for_url(f"{base}/account/two-factor")
        expect(page.locator(".nav-user")).to_have_count(0)
        page.get_by_role("link", name="認証アプリを登録する").click()
        secret = page.locator("#secret").inner_text().replace(" ", "")
        page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
        page.get_by_role("button", name="確認して登録").click()
        codes = page.locator("ol.recovery-codes li").all_inner_texts()
        assert len(codes) == 10
        page.get_by_role("link", name="保管しました。続ける").click()
        expect(page.locator(".nav-user")).to_have_text("田中 一郎")

        def sign_out() -> None:
            page.locator("form.nav-logout button").click()
            expect(page.locator("form.nav-logout")).to_have_count(0)
            # The city map the sign-out leads to asks for much; the one-thread test server
            # answers it all before the next page.
            page.wait_for_load_state("networkidle", timeout=120_000)

        sign_out()
        page.goto(base + "/login")
        sign_in()
        page.wait_for_url(f"{base}/login/verify")
        expect(page.locator(".nav-user")).to_have_count(0)
        # The set-up spent this step's code: the next step's is the one to give.
        page.fill("#code", pyotp.TOTP(secret).at(clock.now().timestamp() + 30))
        page.get_by_role("button", name="確認してログイン").click()
        expect(page.locator(".nav-user")).to_have_text("田中 一郎")

        # A recovery code stands in for the code once.
        sign_out()
        for used_before in (False, True):
            page.goto(base + "/login")
            sign_in()
            page.fill("#code", codes[3])
            page.get_by_role("button", name="確認してログイン").click()
            if not used_before:
                expect(page.locator(".nav-user")).to_have_text("田中 一郎")
                sign_out()
            else:
                expect(page.locator(".form-error").first).to_be_visible()
                expect(page.locator(".nav-user")).to_have_count(0)
        context.close()

    person = session.scalar(select(User).where(User.login == "tanaka"))
    assert person.role == "admin" and person.totp_secret is not None
    actions = session.scalars(
        select(AccountEvent.action)
        .where(AccountEvent.user_id == person.id)
        .order_by(AccountEvent.id)
    ).all()
    assert actions[:2] == ["invited", "joined"]
    assert {"totp_enabled", "recovery_codes_made", "recovery_code_used"} <= set(actions)
    # Three sign-ins made sessions: after the set-up, with the code, with the recovery code.
    assert (
        len(session.scalars(select(LoginSession).where(LoginSession.user_id == person.id)).all())
        == 3
    )
