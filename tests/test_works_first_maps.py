"""Works first on every map: shelters small, under the works, gathered while zoomed out and
off by default where the works are the subject; work symbols sized for a projector; print
labels that never overlap. In real Chromium, offline, at a phone's and a projector's width."""

import math

import pytest
from playwright.sync_api import expect
from shapely.geometry import LineString, Point

from tests.conftest import assert_no_csp_violations, local_only, watched_page

PHONE = {"width": 375, "height": 812}
PROJECTOR = {"width": 1920, "height": 1080}

SHELTER_SWITCH = ".leaflet-control-layers-overlays label"


def open_page(browser, viewport, locale="ja-JP"):
    context = browser.new_context(viewport=viewport, locale=locale, has_touch=viewport == PHONE)
    context.route("**/*", local_only)
    return context, watched_page(context)


def sign_in(page, live_server, client, login_as, user):
    login_as(user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])


def shelter_switch(page, name="指定避難所"):
    return page.locator(SHELTER_SWITCH, has_text=name).locator("input")


def pane_z(page, pane: str) -> int:
    return int(
        page.evaluate(f"getComputedStyle(document.querySelector('.leaflet-{pane}-pane')).zIndex")
    )


@pytest.mark.parametrize("viewport", [PHONE, PROJECTOR], ids=["375", "1920"])
@pytest.mark.parametrize("lang, name", [("ja", "指定避難所"), ("en", "Designated shelter")])
def test_city_map_shows_the_works_and_keeps_the_shelters_off_until_asked(
    live_server, browser, make_project, viewport, lang, name, artifacts_dir
):
    make_project(name="宮地橋 補修", status="construction", geometry=Point(131.115, 32.94))
    context, page = open_page(browser, viewport)
    try:
        page.goto(f"{live_server}/?lang={lang}")
        page.wait_for_function("() => window.asoMapReady === true && window.asoOverlaysReady")
        # The shelters' switch is in the layer control, off; none of their pins is drawn.
        switch = shelter_switch(page, name)
        expect(switch).not_to_be_checked()
        assert (
            page.locator(".aso-facility-pin:not(.aso-legend__pin), .aso-facility-cluster").count()
            == 0
        )
        page.locator(".leaflet-control-layers").hover()
        switch.check()
        page.wait_for_selector(".aso-map[data-facilities-drawn='38']")
        # The whole city in view: the 38 shelters are gathered into fewer, counted circles.
        clusters = page.locator(".aso-facility-cluster")
        expect(clusters.first).to_be_visible()
        pins = page.locator(".leaflet-asoShelters-pane .aso-facility-pin").count()
        counted = sum(int(t) for t in clusters.all_inner_texts())
        assert pins + counted == 38 and pins + clusters.count() < 38
        # Under the works: their pane lies between the base tiles and the works' own.
        assert pane_z(page, "tile") < pane_z(page, "asoShelters") < pane_z(page, "asoWorks")
        # Close in, every shelter is a small pin of its own.
        page.evaluate("AsoProjects.currentMap().setView([32.94, 131.115], 15, {animate: false})")
        expect(page.locator(".leaflet-asoShelters-pane .aso-facility-cluster")).to_have_count(0)
        box = page.locator(".leaflet-asoShelters-pane .aso-facility-pin").first.bounding_box()
        assert box["width"] <= 16 and box["height"] <= 16
        page.screenshot(path=str(artifacts_dir / f"works_first_{lang}_{viewport['width']}.png"))
        assert page.errors == []
        assert_no_csp_violations(page)
    finally:
        context.close()


NEAREST_PIN = """() => {
  const map = document.querySelector('.aso-map').getBoundingClientRect();
  const cx = map.x + map.width / 2, cy = map.y + map.height / 2;
  const pins = [...document.querySelectorAll('.leaflet-asoShelters-pane .aso-facility-pin')];
  const centre = (pin) => { const r = pin.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; };
  pins.sort((a, b) => Math.hypot(...centre(a).map((v, i) => v - [cx, cy][i]))
    - Math.hypot(...centre(b).map((v, i) => v - [cx, cy][i])));
  return [pins[0].title, ...centre(pins[0])];
}"""


def test_a_shelter_under_the_works_canvas_still_opens_its_popup(live_server, browser):
    context, page = open_page(browser, PROJECTOR)
    try:
        page.goto(live_server + "/")
        page.wait_for_function("() => window.asoMapReady === true && window.asoOverlaysReady")
        page.locator(".leaflet-control-layers").hover()
        shelter_switch(page).check()
        page.wait_for_selector(".aso-map[data-facilities-drawn='38']")
        page.evaluate("AsoProjects.currentMap().setView([32.94, 131.115], 15, {animate: false})")
        # The pin nearest the middle of the map, clear of its controls.
        name, x, y = page.evaluate(NEAREST_PIN)
        assert page.evaluate(f"document.elementFromPoint({x}, {y}).tagName") == "CANVAS"
        # A click where the pin is lands on the works' canvas above it, and reaches the pin.
        page.mouse.click(x, y)
        expect(page.locator(".aso-popup--facility .aso-popup__name")).to_have_text(name)
    finally:
        context.close()


def test_works_are_drawn_larger_on_a_projector_than_on_a_phone(live_server, browser, make_project):
    make_project(name="宮地橋 補修", status="construction", geometry=Point(131.115, 32.94))
    sizes = {}
    for viewport in (PHONE, PROJECTOR):
        context, page = open_page(browser, viewport)
        try:
            page.goto(live_server + "/")
            page.wait_for_function("() => window.asoMapReady === true")
            page.evaluate(
                "AsoProjects.currentMap().setView([32.94, 131.115], 16, {animate: false})"
            )
            page.wait_for_function("() => AsoProjects.drawnPins().length > 0")
            sizes[viewport["width"]] = page.evaluate("AsoProjects.drawnPins()[0].width")
        finally:
            context.close()
    assert sizes[375] == 24
    assert sizes[1920] >= 36


@pytest.mark.parametrize("viewport", [PHONE, PROJECTOR], ids=["375", "1920"])
def test_staff_map_and_meeting_map_keep_the_shelters_off(
    live_server, browser, client, login_as, make_user, make_project, viewport
):
    make_project(name="宮地橋 補修")
    context, page = open_page(browser, viewport)
    try:
        sign_in(page, live_server, client, login_as, make_user("staff"))
        for path in ("/staff/", "/plan"):
            page.goto(live_server + path)
            page.wait_for_function("() => window.asoMapReady === true && window.asoOverlaysReady")
            expect(shelter_switch(page)).not_to_be_checked()
            assert page.locator(".leaflet-asoShelters-pane .leaflet-marker-icon").count() == 0
        assert page.errors == []
    finally:
        context.close()


def test_the_near_page_keeps_its_shelters(live_server, browser):
    context, page = open_page(browser, PHONE)
    try:
        page.goto(live_server + "/near?lat=32.9425&lon=131.1180")
        expect(page.locator(".near-shelter-pin").first).to_be_attached()
    finally:
        context.close()


def overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of labels that overlap: two numbers' circles, or a box with any other box."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a["text"].isdigit() and b["text"].isdigit():
                centres = math.dist(
                    (a["x"] + a["width"] / 2, a["y"] + a["height"] / 2),
                    (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2),
                )
                if centres < (a["width"] + b["width"]) / 2:
                    found.append((a["text"], b["text"]))
            elif (
                a["x"] < b["x"] + b["width"]
                and b["x"] < a["x"] + a["width"]
                and a["y"] < b["y"] + b["height"]
                and b["y"] < a["y"] + a["height"]
            ):
                found.append((a["text"], b["text"]))
    return found


LABEL_BOXES = """() => [...document.querySelectorAll('.map-places text, .map-number')].map(el => {
  const shape = el.querySelector('circle') || el;
  const r = shape.getBoundingClientRect();
  return {text: el.textContent, x: r.x, y: r.y, width: r.width, height: r.height};
})"""


@pytest.mark.parametrize("viewport", [PHONE, PROJECTOR], ids=["375", "1920"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_print_sheet_place_names_never_overlap_the_numbers(
    live_server, browser, make_project, viewport, lang, artifacts_dir
):
    # Works crowded around 一の宮 (宮地) and 内牧, as in the sample data.
    for i in range(30):
        lon, lat = (131.118, 32.942) if i % 2 else (131.065, 32.955)
        make_project(
            name=f"事業 {i}",
            kind="road",
            status="construction",
            geometry=LineString(
                [
                    (lon + (i % 5) * 0.002, lat + (i // 5) * 0.001),
                    (lon + (i % 5) * 0.002 + 0.001, lat + (i // 5) * 0.001 + 0.0015),
                ]
            ),
        )
    context, page = open_page(browser, viewport)
    try:
        page.goto(f"{live_server}/plan/print?size=A3&lang={lang}")
        boxes = page.evaluate(LABEL_BOXES)
        assert len([b for b in boxes if not b["text"].isdigit()]) >= 4  # place names are there
        listed = page.locator(".sheet-list li").count()
        assert listed >= 10 and len([b for b in boxes if b["text"].isdigit()]) == listed
        assert overlaps(boxes) == []
        page.screenshot(path=str(artifacts_dir / f"print_labels_{lang}_{viewport['width']}.png"))
    finally:
        context.close()
