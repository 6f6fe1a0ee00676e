"""Empty pages that say what would fill them: the costs of a fresh install name the columns to
fill and link to the import; the hazard page without hazard data links to the admin page that
loads it, instead of empty counts. In both languages, and in Chromium at 375 and 1920 px."""

import pytest
from playwright.sync_api import expect

from tests.conftest import local_only, watched_page
from tests.hazard_files import a33_zip, square
from tracker.hazards.loading import load_hazard_file


def sign_in(page, live_server, client, login_as, user):
    login_as(user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])


@pytest.mark.parametrize(
    "lang, words", [("ja", "事業費"), ("en", "Import a works list")], ids=["ja", "en"]
)
def test_costs_without_amounts_say_which_columns_to_fill(
    client, make_project, make_user, login_as, lang, words
):
    make_project(name="宮地橋 補修")
    login_as(make_user("staff"))
    html = client.get(f"/plan/costs?lang={lang}").get_data(as_text=True)
    assert 'data-empty="costs"' in html
    for field in ("planned_cost", "contract_amount", "spent_amount"):
        assert f"<code>{field}</code>" in html
    assert 'href="/projects/import"' in html and words in html


def test_costs_with_amounts_have_no_empty_state(client, make_project):
    make_project(name="宮地橋 補修", planned_cost=12_000_000)
    html = client.get("/plan/costs").get_data(as_text=True)
    assert 'data-empty="costs"' not in html and "1,200万円" in html


def test_a_resident_is_told_who_fills_the_costs(client):
    html = client.get("/plan/costs").get_data(as_text=True)
    assert 'data-empty="costs"' in html and "/projects/import" not in html
    assert "金額の取り込みは職員が行います。" in html


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_hazard_page_without_data_links_to_the_admin_page_not_empty_counts(
    client, make_user, login_as, lang
):
    login_as(make_user("admin"))
    html = client.get(f"/plan/hazards?lang={lang}").get_data(as_text=True)
    assert 'data-empty="hazards"' in html
    assert 'href="/admin/hazards"' in html
    assert "hazard-section" not in html
    assert "事業 0 件" not in html and "0 works" not in html


def test_hazard_page_shows_only_loaded_hazards_and_says_when_no_work_is_in_them(
    client, session, tmp_path
):
    sediment = a33_zip(tmp_path / "a33", [(square(131.04441, 32.94212), 1, 1, "内牧の急傾斜地")])
    load_hazard_file(session, sediment, "A33-23_43.zip", "sediment")
    session.flush()
    html = client.get("/plan/hazards").get_data(as_text=True)
    assert 'data-empty="hazards"' not in html
    assert html.count('class="hazard-section"') == 1
    assert "この区域にかかる事業はありません" in html and "事業 0 件" not in html


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_empty_states_in_chromium(
    live_server, browser, client, login_as, make_user, width, lang, artifacts_dir
):
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.route("**/*", local_only)
    page = watched_page(context)
    try:
        sign_in(page, live_server, client, login_as, make_user("admin"))
        page.goto(f"{live_server}/plan/costs?lang={lang}")
        empty = page.locator("[data-empty=costs]")
        expect(empty).to_be_visible()
        empty.get_by_role("link").click()
        page.wait_for_url(f"{live_server}/projects/import")
        page.goto(f"{live_server}/plan/hazards?lang={lang}")
        empty = page.locator("[data-empty=hazards]")
        expect(empty).to_be_visible()
        page.screenshot(path=str(artifacts_dir / f"empty_hazards_{lang}_{width}.png"))
        empty.get_by_role("link").click()
        page.wait_for_url(f"{live_server}/admin/hazards")
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        assert page.errors == []
    finally:
        context.close()
