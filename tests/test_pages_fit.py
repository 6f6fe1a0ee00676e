"""Pages that fit a phone: the header's menu (sign-in, sign-out, the person's name) in view,
and the indicator and print pages without sideways scrolling, at 320, 375 and 1920 px, in
both languages, in real Chromium."""

import pytest
from shapely.geometry import LineString

from tests.conftest import local_only, watched_page

WIDTHS = [320, 375, 1920]
FITS = "document.scrollingElement.scrollWidth <= window.innerWidth"


def open_page(browser, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="ja-JP")
    context.route("**/*", local_only)
    return context, watched_page(context)


def sign_in(page, live_server, client, login_as, user):
    login_as(user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])


def assert_in_view(page, locator, width):
    box = locator.bounding_box()
    assert box is not None, locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (locator, box)
    assert locator.is_visible()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_header_menu_fits_signed_out_and_signed_in(
    live_server, browser, client, login_as, make_user, width, lang, artifacts_dir
):
    context, page = open_page(browser, width)
    try:
        page.goto(f"{live_server}/works?lang={lang}")
        sign_in_link = page.locator(".site-nav a[href='/login']")
        assert_in_view(page, sign_in_link, width)
        if width == 375 and lang == "ja":
            # The signed-out menu is one row under the title: two rows in all.
            assert page.locator(".site-header").bounding_box()["height"] <= 2 * 48
        for link in page.locator(".site-nav a").all():
            assert_in_view(page, link, width)
        assert page.evaluate(FITS)

        admin = make_user("admin", display_name="阿蘇 太郎（建設課 道路係）")
        sign_in(page, live_server, client, login_as, admin)
        page.goto(f"{live_server}/works?lang={lang}")
        assert_in_view(page, page.locator(".nav-user"), width)
        assert page.locator(".nav-user").inner_text() == "阿蘇 太郎（建設課 道路係）"
        assert_in_view(page, page.locator(".nav-logout button"), width)
        for link in page.locator(".site-nav a").all():
            assert_in_view(page, link, width)
        assert page.evaluate(FITS)
        page.screenshot(path=str(artifacts_dir / f"header_{lang}_{width}.png"))
        assert page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("path", ["/plan/indicators", "/plan/print", "/plan/print?size=A3"])
def test_indicator_and_print_pages_do_not_scroll_sideways(
    live_server, browser, make_project, width, lang, path, artifacts_dir
):
    make_project(
        name="市道 内牧線 改良",
        kind="road",
        status="completed",
        progress=100,
        indicator_codes=["m13_road_improved"],
        geometry=LineString([(131.04, 32.94), (131.05, 32.945)]),
    )
    context, page = open_page(browser, width)
    try:
        joiner = "&" if "?" in path else "?"
        page.goto(f"{live_server}{path}{joiner}lang={lang}")
        assert page.evaluate(FITS), page.evaluate(
            "[document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        # Every figure of the table is still there, each under its column's name on a phone.
        row = page.locator(".indicator-table tr[data-code='m13_road_improved']")
        assert_in_view(page, row, width)
        cells = row.locator("td")
        assert cells.count() == 7
        if width < 640:
            label = page.evaluate(
                "getComputedStyle(document.querySelector("
                "'.indicator-table tr[data-code] td.current'), '::before').content"
            )
            assert label.strip('"') == ("Current value" if lang == "en" else "現状値")
        name = path.strip("/").replace("/", "_").replace("?size=", "_")
        page.screenshot(path=str(artifacts_dir / f"fit_{name}_{lang}_{width}.png"), full_page=True)
    finally:
        context.close()
