"""Two-factor sign-in in real Chromium: a passkey made on the DevTools virtual authenticator
signs in as the second factor and without a password; an admin sets up the authenticator
app before the session starts, then signs in with password and code; axe-core and the
language check on the new pages in Japanese and English at 375 and 1280 px.

WebAuthn needs a secure context and a host name for its relying party: the live server is
reached as http://localhost, which Chromium counts as secure (an IP address is no RP id).
"""

import re

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import assert_no_csp_violations, local_only, serving, watched_page
from tests.test_accessibility import WIDTHS, check
from tracker.accounts.models import AccountEvent, LoginSession, Passkey
from tracker.core import clock

PASSWORD = "correct horse battery"
# The page's own refusal, not the passkey block's message.
PAGE_ERROR = "p.form-error:not([data-passkey-message])"


@pytest.fixture
def site(app):
    """The app served on a local port, named by host name (localhost)."""
    with serving(app) as url:
        yield url.replace("127.0.0.1", "localhost")


def virtual_authenticator(page):
    """Give the page's tab a platform authenticator that holds passkeys and verifies its user."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def sign_in_with_password(page, site, login, next_target=None):
    page.goto(f"{site}/login" + (f"?next={next_target}" if next_target else ""))
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.locator("form.stacked button[type=submit]").click()


def sign_out(page):
    page.locator("form.nav-logout button").click()
    expect(page.locator("form.nav-logout")).to_have_count(0)
    # Signing out leads to the city map, whose many requests the one-thread test server
    # answers in turn: let them finish before the next page is asked for.
    page.wait_for_load_state("networkidle", timeout=120_000)


def signed_in_as(page, label):
    expect(page.locator(".nav-user")).to_have_text(label)


def test_a_passkey_signs_in_as_second_factor_and_without_a_password(site, page, session, make_user):
    user = make_user("staff", login="tanaka", password=PASSWORD, display_name="田中")
    virtual_authenticator(page)
    sign_in_with_password(page, site, "tanaka", next_target="/account/two-factor")
    page.wait_for_url(f"{site}/account/two-factor")

    page.fill("#passkey-name", "事務所のパソコン")
    page.get_by_role("button", name="この端末にパスキーを登録").click()
    expect(page.locator(".passkey-list .name")).to_have_text("事務所のパソコン")
    session.expire_all()
    [passkey] = session.scalars(select(Passkey).where(Passkey.user_id == user.id)).all()
    assert passkey.name == "事務所のパソコン" and passkey.last_used_at is None
    actions = session.scalars(select(AccountEvent.action).where(AccountEvent.user_id == user.id))
    assert "passkey_added" in list(actions)

    # The second factor: the password alone starts no session.
    sign_out(page)
    sign_in_with_password(page, site, "tanaka", next_target="/projects/new")
    page.wait_for_url(f"{site}/login/verify")
    expect(page.locator(".nav-user")).to_have_count(0)
    page.get_by_role("button", name="パスキーを使う").click()
    page.wait_for_url(f"{site}/projects/new")
    signed_in_as(page, "田中")
    session.expire_all()
    first_count = session.get(Passkey, passkey.id).sign_count
    assert session.get(Passkey, passkey.id).last_used_at is not None

    # Without a password: the passkey alone, the person verified on the authenticator.
    sign_out(page)
    page.goto(f"{site}/login?next=/staff/")
    page.get_by_role("button", name="パスキーでログイン（パスワード不要）").click()
    page.wait_for_url(f"{site}/staff/")
    signed_in_as(page, "田中")
    session.expire_all()
    assert session.get(Passkey, passkey.id).sign_count > first_count
    sessions = session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()
    assert len(sessions) == 3 and all("Chrome" in s.user_agent for s in sessions)
    assert page.errors == []


def test_an_admin_may_set_up_a_passkey_as_the_first_factor(site, page, session, make_user):
    admin = make_user("admin", login="kanri", password=PASSWORD, display_name="管理 花子")
    virtual_authenticator(page)
    sign_in_with_password(page, site, "kanri", next_target="/projects/new")
    page.wait_for_url(f"{site}/account/two-factor")
    expect(page.locator(".nav-user")).to_have_count(0)
    page.fill("#passkey-name", "管理用の端末")
    page.get_by_role("button", name="この端末にパスキーを登録").click()
    page.wait_for_url(f"{site}/projects/new")
    signed_in_as(page, "管理 花子")
    session.expire_all()
    assert [p.name for p in session.get(type(admin), admin.id).passkeys] == ["管理用の端末"]

    sign_out(page)
    sign_in_with_password(page, site, "kanri")
    page.wait_for_url(f"{site}/login/verify")
    # No app: the code asked for is a recovery code; the passkey is offered.
    expect(page.locator("#code-hint")).to_have_text("回復コードを入力してください。")
    page.get_by_role("button", name="パスキーを使う").click()
    signed_in_as(page, "管理 花子")


def test_a_passkey_of_no_account_is_refused_in_words(site, page, session, make_user):
    make_user("staff", login="sato", password=PASSWORD)
    cdp = virtual_authenticator(page)
    sign_in_with_password(page, site, "sato", next_target="/account/two-factor")
    page.wait_for_url(f"{site}/account/two-factor")
    page.get_by_role("button", name="この端末にパスキーを登録").click()
    expect(page.locator(".passkey-list li")).to_have_count(1)
    # The account's passkeys are removed on the server; the authenticator still holds one.
    session.expire_all()
    for key in session.scalars(select(Passkey)).all():
        session.delete(key)
    session.flush()
    sign_out(page)
    page.goto(f"{site}/login")
    page.get_by_role("button", name="パスキーでログイン（パスワード不要）").click()
    expect(page.locator("[data-passkey-message]")).to_have_text(
        "このパスキーは登録されていません。"
    )
    expect(page.locator(".nav-user")).to_have_count(0)
    assert cdp is not None


def test_an_admin_sets_up_the_app_then_signs_in_with_password_and_code(
    site, page, session, make_user
):
    make_user("admin", login="kanri", password=PASSWORD, display_name="管理 花子")
    sign_in_with_password(page, site, "kanri", next_target="/projects/new")
    page.wait_for_url(f"{site}/account/two-factor")
    expect(page.locator(".nav-user")).to_have_count(0)
    page.get_by_role("link", name="認証アプリを登録する").click()
    expect(page.locator("img.qr-code")).to_be_visible()
    assert page.locator("img.qr-code").evaluate("(img) => img.naturalWidth") > 0
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="確認して登録").click()
    codes = page.locator("ol.recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="保管しました。続ける").click()
    page.wait_for_url(f"{site}/projects/new")
    signed_in_as(page, "管理 花子")

    # From now on the password is followed by the code; a recovery code works once too.
    sign_out(page)
    sign_in_with_password(page, site, "kanri")
    page.wait_for_url(f"{site}/login/verify")
    page.fill("#code", codes[0])
    page.get_by_role("button", name="確認してログイン").click()
    signed_in_as(page, "管理 花子")
    sign_out(page)
    sign_in_with_password(page, site, "kanri")
    page.fill("#code", codes[0])
    page.get_by_role("button", name="確認してログイン").click()
    expect(page.locator(PAGE_ERROR)).to_have_text("コードが違います。")
    # The app's code of the next step (the set-up spent this one).
    page.fill("#code", pyotp.TOTP(secret).at(clock.now().timestamp() + 30))
    page.get_by_role("button", name="確認してログイン").click()
    signed_in_as(page, "管理 花子")


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_two_factor_pages_pass_axe_and_speak_one_language(
    app, browser, session, make_user, lang, size, artifacts_dir
):
    width = WIDTHS[size]
    admin = make_user("admin", login="kanri", password=PASSWORD, display_name="管理 花子")
    report, problems = [], []
    with serving(app) as base:
        base = base.replace("127.0.0.1", "localhost")
        context = browser.new_context(
            viewport={"width": width, "height": 800}, locale="ja-JP", has_touch=width < 600
        )
        context.route("**/*", local_only)
        context.add_cookies([{"name": "lang", "value": lang, "url": base}])
        page = watched_page(context)

        def look(name):
            check(page, name, lang, width, report, problems)
            shot = re.sub(r"\W+", "_", f"{name}_{lang}_{width}")
            page.screenshot(path=str(artifacts_dir / f"{shot}.png"), full_page=True)

        page.goto(f"{base}/login")
        expect(page.locator("[data-passkey]")).to_be_visible()
        look("sign-in with passkey")
        sign_in_with_password(page, base, "kanri")
        page.wait_for_url(f"{base}/account/two-factor")
        look("two-factor: set up first")
        page.goto(f"{base}/account/two-factor/app")
        look("two-factor: app with QR code")
        page.fill("#code", "000000")
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator(PAGE_ERROR)).to_be_visible()
        look("two-factor: wrong first code")
        secret = page.locator("#secret").inner_text().replace(" ", "")
        page.fill("#code", pyotp.TOTP(secret).at(clock.now()))
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator("ol.recovery-codes li")).to_have_count(10)
        look("two-factor: recovery codes")

        session.add(Passkey(user_id=admin.id, credential_id=b"axe", public_key=b"-", name="事務所"))
        session.flush()
        page.goto(f"{base}/account/two-factor")
        expect(page.locator(".passkey-list li")).to_have_count(1)
        look("two-factor: overview")

        page.locator("form.nav-logout button").click()
        sign_in_with_password(page, base, "kanri")
        page.wait_for_url(f"{base}/login/verify")
        look("two-factor: code at sign-in")
        page.fill("#code", "000000")
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator(PAGE_ERROR)).to_be_visible()
        look("two-factor: wrong code at sign-in")
        assert_no_csp_violations(page)
        context.close()
    assert problems == [], "\n".join(problems)
