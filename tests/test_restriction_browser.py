"""A traffic restriction drawn as a line in Chromium, then seen where people look: the
project page, the city map's own layer (which can be switched off), /plan, /near, the
feed and the API."""

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from playwright.sync_api import expect

from tests.conftest import MIYAJI_STATION
from tests.test_restrictions import weekday_morning  # noqa: F401  (a fixture)
from tests.test_staff_browser import sign_in
from tracker.core import clock

LON, LAT = MIYAJI_STATION
A = "{http://www.w3.org/2005/Atom}"


def draw_line(page, points: list[tuple[float, float]]) -> None:
    """Draw a polyline on the form's map by clicking at fractions of its width and height."""
    page.locator(".leaflet-draw-draw-polyline").click()
    box = page.locator(".aso-map--editor").bounding_box()
    for fx, fy in points:
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.wait_for_timeout(150)
    # Leaflet.draw speaks the page's language: 「完了」 ends the line.
    page.get_by_role("link", name="完了", exact=True).click()


# A weekday daytime restriction: in force (and on today's maps) on a working day at 10:00.
@pytest.mark.usefixtures("weekday_morning")
def test_a_restriction_drawn_as_a_line_shows_everywhere(
    live_server, page, client, login_as, make_user, make_project, artifacts_dir
):
    road = make_project(name="市道 宮地駅前線 改良", kind="road")
    sign_in(page, live_server, client, login_as, make_user("staff"))
    page.goto(f"{live_server}/projects/{road.id}/restrictions")
    page.wait_for_function("() => window.asoRestrictionEditorReady === true")

    # The section: drawn with the line tool. The detour: chosen, then drawn too.
    # The drawn line reaches its box a moment after the draw ends: wait for it.
    line = re.compile('"type":"LineString"')
    draw_line(page, [(0.35, 0.55), (0.5, 0.5), (0.65, 0.45)])
    expect(page.locator("#section")).to_have_value(line)
    assert page.locator("#section").input_value().count("[") == 4
    page.get_by_label("迂回路（緑の点線）").check()
    draw_line(page, [(0.35, 0.55), (0.45, 0.7), (0.65, 0.45)])
    expect(page.locator("#detour")).to_have_value(line)

    page.get_by_label("種類").select_option("closed")
    page.locator("#r-start").fill((clock.today() - timedelta(days=1)).isoformat())
    page.locator("#r-days").select_option("weekdays")
    page.locator("#r-from").fill("08:30")
    page.locator("#r-until").fill("17:00")
    page.get_by_label("説明（200字まで・公開されます）").fill("平日昼間は全面通行止め")
    page.get_by_label("理由（任意・公開されます）").fill("舗装工事のため")
    page.get_by_label("問い合わせ先（任意・公開されます）").fill("阿蘇市 建設課")
    page.screenshot(path=str(artifacts_dir / "restriction_drawn.png"), full_page=True)
    page.get_by_role("button", name="登録する").click()
    expect(page.locator(".restriction-item")).to_contain_text("平日 8:30〜17:00")
    assert page.errors == []

    # The project page: listed, and drawn as a dashed red section with its detour.
    page.goto(f"{live_server}/projects/{road.id}")
    expect(page.locator("#restrictions-heading")).to_be_visible()
    expect(page.locator(".project-restrictions")).to_contain_text("平日昼間は全面通行止め")
    expect(page.locator("path.aso-section")).to_have_count(1)
    expect(page.locator("path.aso-detour")).to_have_count(1)

    # The city map: a layer of its own, drawn unlike the works, that can be switched off.
    page.goto(f"{live_server}/")
    page.wait_for_function("() => window.asoOverlaysReady === true")
    expect(page.locator(".aso-map")).to_have_attribute("data-restrictions-drawn", "1")
    expect(page.locator("path.aso-restriction")).to_have_count(1)
    dash = page.locator("path.aso-restriction").get_attribute("stroke-dasharray")
    assert dash == "12 8"
    page.locator(".leaflet-control-layers").hover()
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="通行規制")
    toggle.locator("input").uncheck()
    expect(page.locator("path.aso-restriction")).to_have_count(0)
    toggle.locator("input").check()
    expect(page.locator("path.aso-restriction")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "restriction_city_map.png"))

    # /plan draws the restrictions in force on its as_of day: none before it began.
    page.goto(f"{live_server}/plan")
    page.wait_for_function("() => window.asoOverlaysReady === true")
    expect(page.locator("path.aso-restriction")).to_have_count(1)
    before = (clock.today() - timedelta(days=10)).isoformat()
    page.goto(f"{live_server}/plan?as_of={before}")
    page.wait_for_function("() => window.asoOverlaysReady === true")
    expect(page.locator(".aso-map")).to_have_attribute("data-restrictions-drawn", "0")

    # /near: in force now, with its hours, and its line on the map.
    page.goto(f"{live_server}/near?lat={LAT}&lon={LON}&radius=500")
    banner = page.locator(".restrictions-now")
    expect(banner).to_contain_text("通行止め")
    expect(banner).to_contain_text("平日 8:30〜17:00")
    page.wait_for_function("() => window.asoNearReady === true")
    expect(page.locator("path.near-section")).to_have_count(1)
    expect(page.locator("path.near-detour")).to_have_count(1)
    assert page.errors == []

    # The feed and the API, asked over HTTP as a feed reader or a GIS client would.
    feed = page.request.get(f"{live_server}/near/feed.atom?lat={LAT}&lon={LON}&radius=500")
    titles = [e.find(f"{A}title").text for e in ET.fromstring(feed.body()).findall(f"{A}entry")]
    assert "新しい通行規制: 通行止め（市道 宮地駅前線 改良）" in titles
    api = page.request.get(f"{live_server}/api/restrictions").json()["features"]
    assert len(api) == 1 and api[0]["geometry"]["type"] == "LineString"
    coordinates = api[0]["geometry"]["coordinates"]
    assert len(coordinates) == 3
    # Drawn along the work, the view having been fitted to it.
    assert all(abs(x - LON) < 0.01 and abs(y - LAT) < 0.01 for x, y in coordinates)
    assert api[0]["properties"]["detour"]["type"] == "LineString"
    assert api[0]["properties"]["time_from"] == "08:30"
