"""/near on a 375 px phone in headless Chromium, offline: with and without JavaScript."""

import re
from datetime import timedelta

import pytest
from shapely.geometry import LineString, Point

from tests.conftest import assert_no_csp_violations, local_only, watched_page
from tracker.core import clock
from tracker.restrictions.operations import add_restriction

UCHINOMAKI = (131.0400, 32.9717)
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def phone(browser):
    """A phone-sized page that can only reach the local server; JS errors are collected and
    a Content-Security-Policy violation fails the test."""
    contexts = []

    pages = []

    def open_page(**options):
        context = browser.new_context(viewport=PHONE, locale="ja-JP", has_touch=True, **options)
        context.route("**/*", local_only)
        contexts.append(context)
        pages.append(watched_page(context))
        return pages[-1]

    yield open_page
    for page in pages:
        assert_no_csp_violations(page)
    for context in contexts:
        context.close()


@pytest.fixture
def works(session, make_project):
    road = make_project(
        name="市道内牧駅前線 <改良>",
        kind="road",
        geometry=LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.004, UCHINOMAKI[1] + 0.001)]),
        status="construction",
        progress=45,
    )
    add_restriction(
        session, road, kind="alternating", starts_on=clock.today() - timedelta(days=2),
        description="平日昼間は片側交互通行",
    )  # fmt: skip
    bridge = make_project(name="内牧の橋", geometry=Point(UCHINOMAKI[0], UCHINOMAKI[1] + 0.003))
    hidden = make_project(
        name="職員のみ", geometry=Point(UCHINOMAKI[0], UCHINOMAKI[1] + 0.001), is_public=False
    )
    return {"road": road, "bridge": bridge, "hidden": hidden}


def test_phone_page_with_map_results_and_shelters(live_server, phone, works, artifacts_dir):
    page = phone()
    page.goto(live_server + "/near?place=d-uchinomaki&radius=1000")
    page.wait_for_function("() => window.asoNearReady === true", timeout=15000)

    assert page.locator("#near-map").is_visible()
    assert page.locator(".leaflet-control-attribution a", has_text="地理院タイル").count() == 1
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    banner = page.locator(".restrictions-now")
    assert banner.is_visible() and "片側交互通行" in banner.inner_text()
    names = page.locator(".result__name a").all_inner_texts()
    assert names == ["市道内牧駅前線 <改良>", "内牧の橋"]
    assert "職員のみ" not in page.content()
    assert page.locator(".shelter").count() == 3
    # Two numbered pins for the works, three shelter pins.
    assert page.locator(".near-pin").all_inner_texts() == ["1", "2"]
    assert page.locator(".near-shelter-pin").count() == 3
    # Each work is drawn once: its numbered pin, with no vector tile layer beneath.
    assert page.evaluate("AsoNear.drawn()") == {"tileLayers": 0, "workPins": 2}
    # Touch targets: 44 CSS px at least.
    for selector in (".near-form .radio", ".near-form select", ".button", ".result__name a"):
        for box in (el.bounding_box() for el in page.locator(selector).all()):
            assert box["height"] >= 44, selector
    assert page.errors == []
    page.screenshot(path=str(artifacts_dir / "near_phone.png"), full_page=True)


def test_tapping_the_map_searches_around_that_spot(live_server, phone, works):
    page = phone()
    page.goto(live_server + "/near")
    page.wait_for_function("() => window.asoNearReady === true", timeout=15000)
    # Before a place is chosen the public works are drawn from the vector tiles.
    assert page.evaluate("AsoNear.drawn()") == {"tileLayers": 1, "workPins": 0}
    page.evaluate(
        # Close enough that every work is drawn as itself (no groups), both in view.
        "([lat, lon]) => AsoNear.map.setView([lat, lon], 16, {animate: false})",
        [UCHINOMAKI[1] + 0.0015, UCHINOMAKI[0] + 0.002],
    )
    page.wait_for_function("() => AsoProjects.drawnIds().length >= 2")
    drawn = page.evaluate("AsoProjects.drawnIds()")
    assert {works["road"].id, works["bridge"].id} <= set(drawn)
    assert works["hidden"].id not in drawn
    page.locator("#near-map").click(position={"x": 180, "y": 120})
    page.wait_for_url(re.compile(r"/near\?lat=[\d.]+&lon=[\d.]+&radius=1000"))
    assert page.locator("#h-works").inner_text().startswith("選んだ地点から1 km以内の工事")
    assert page.errors == []


def test_my_location_button_uses_the_browser_position(live_server, phone, works):
    page = phone(
        geolocation={"latitude": UCHINOMAKI[1], "longitude": UCHINOMAKI[0]},
        permissions=["geolocation"],
    )
    page.goto(live_server + "/near")
    page.get_by_label("500 m").check()
    page.get_by_role("button", name="現在地で探す").click()
    page.wait_for_url(re.compile(r"lat=32\.9717.*radius=500"))
    assert "内牧の橋" in page.locator(".results").inner_text()


def test_without_javascript_the_form_and_results_still_work(
    live_server, phone, works, artifacts_dir
):
    page = phone(java_script_enabled=False)
    page.goto(live_server + "/near?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert not page.locator("#near-map").is_visible()
    page.get_by_label("Place (district, station or landmark)").select_option(label="Uchinomaki")
    page.get_by_label("3 km").check()
    page.get_by_role("button", name="Search around this place").click()
    page.wait_for_url(re.compile(r"place=d-uchinomaki.*radius=3000"))
    assert page.locator("h2#h-works").inner_text() == "Works within 3 km of Uchinomaki"
    assert page.locator(".result").count() == 2
    assert "Alternating one-lane traffic" in page.locator(".restrictions-now").inner_text()
    page.screenshot(path=str(artifacts_dir / "near_phone_nojs_en.png"), full_page=True)
    # Only names and staff-written notes stay Japanese, each marked lang="ja" for screen readers.
    unmarked = page.evaluate(
        """() => {
            document.querySelectorAll('[lang="ja"]').forEach((el) => el.remove());
            return document.body.innerText.match(/[\\u3040-\\u30ff\\u3400-\\u9fff\\uff01-\\uff5e]+/g);
        }"""
    )
    assert unmarked is None


def test_the_header_stays_compact_on_a_phone(live_server, phone):
    page = phone()
    page.goto(live_server + "/near")
    header = page.locator(".site-header").bounding_box()
    # Title and language on one row, the menu on a second: not four rows pushing the page down.
    assert header["height"] <= 2 * 48
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    link = page.get_by_role("link", name="近くの工事・避難所")
    assert link.get_attribute("aria-current") == "page"
    assert link.bounding_box()["height"] >= 44
    assert page.get_by_role("link", name="English").bounding_box()["height"] >= 44
