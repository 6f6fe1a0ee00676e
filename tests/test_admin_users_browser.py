"""The people page and the invitation's page in Chromium, in Japanese and English, on a 375 px
phone and a 1280 px desktop: an admin invites someone through the form, the mail reaches a
real SMTP server, the invitee opens its link and chooses a password. Every page on the way
is checked by axe-core (no serious or critical violation) and for other-language text."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import local_only, serving, watched_page
from tests.smtp_server import smtp_server
from tests.test_accessibility import WIDTHS, _write_report, check, sign_in_cookie
from tracker.accounts.mail import wait_for_mails
from tracker.accounts.models import Department, User
from tracker.accounts.passwords import verify_password

GOOD_PASSWORD = "外輪山 kettle umbrella 1987 tide"
INVITER = "管理 花子"
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def city_people(session, make_user):
    """Departments, an admin, a staff member of one department and a deactivated viewer."""
    departments = {}
    for name in ("建設課", "農林課"):
        departments[name] = session.scalar(select(Department).where(Department.name == name))
        if departments[name] is None:
            departments[name] = Department(name=name)
            session.add(departments[name])
    session.flush()
    admin = make_user("admin", login="kanri", display_name=INVITER, email="kanri@example.jp")
    make_user(
        "staff",
        login="sato",
        display_name="佐藤 次郎",
        email="sato@example.jp",
        departments=[departments["農林課"]],
    )
    make_user("viewer", login="former", display_name="元職員", is_active=False)
    return admin


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_invite_and_join_pass_axe_and_speak_one_language(
    csrf_app, browser, session, client, login_as, city_people, lang, size, artifacts_dir
):
    width = WIDTHS[size]
    admin_cookie = sign_in_cookie(client, login_as, city_people)
    login = f"tanaka-{size}-{lang}"
    report, problems = [], []
    with smtp_server() as (mailbox, smtp_url), serving(csrf_app) as base:
        csrf_app.config["SMTP_URL"] = smtp_url
        context = browser.new_context(
            viewport={"width": width, "height": 800}, locale="ja-JP", has_touch=width < 600
        )
        context.route("**/*", local_only)
        context.add_cookies(
            [
                {"name": "lang", "value": lang, "url": base},
                {"name": "session", "value": admin_cookie, "url": base},
            ]
        )
        page = watched_page(context)

        def look(name: str, *data: str) -> None:
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{name} scrolls sideways at {width}px"
            check(page, name, lang, width, report, problems, data=data)

        page.goto(base + "/admin/users")
        look("people")
        page.locator("#person-" + str(city_people.id) + " summary").click()
        look("people: a person's forms open")
        page.screenshot(path=artifacts_dir / f"admin_users_{size}_{lang}.png", full_page=True)

        # An invitation through the form; a second one to the same address is refused.
        for attempt in ("invited", "refused: address taken"):
            page.fill("#invite-login", login if attempt == "invited" else login + "-2")
            page.fill("#invite-name", "田中 一郎")
            page.fill("#invite-email", f"{login}@example.jp")
            page.select_option("#invite-role", "staff")
            page.locator("#invite-form-departments input").first.check()
            page.locator(".invite-form button[type=submit]").click()
            if attempt == "invited":
                expect(page.locator(".flash")).to_be_visible()
            else:
                expect(page.locator(".form-error")).to_be_visible()
            look("people: " + attempt, login)

        page.goto(base + "/admin/users/audit")
        look("account changes")

        wait_for_mails()
        [mail] = mailbox.to(f"{login}@example.jp")
        link = "/account/join/" + mail.get_content().split(base + "/account/join/")[1].split()[0]
        context.clear_cookies()
        context.add_cookies([{"name": "lang", "value": lang, "url": base}])

        page.goto(base + link)
        look("join", INVITER)
        page.fill("#password", "password1234")
        page.fill("#confirm", "password1234")
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator(".field-error")).to_be_visible()
        look("join: weak password refused", INVITER)
        page.fill("#password", GOOD_PASSWORD)
        page.fill("#confirm", GOOD_PASSWORD)
        page.locator("form.stacked button[type=submit]").click()
        expect(page.locator(".form-done")).to_be_visible()
        look("join: done")
        page.goto(base + link)
        expect(page.locator(".form-error")).to_be_visible()
        look("join: link used up")
        context.close()

    joined = session.scalar(select(User).where(User.login == login))
    session.refresh(joined)
    assert verify_password(joined.password_hash, GOOD_PASSWORD)
    _write_report(report)
    assert problems == [], "\n".join(problems)
