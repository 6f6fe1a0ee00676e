"""What people see, in real Chromium with no internet: /near on a phone, the feed in a browser,
the city map without JavaScript and on a phone, English maps, the drawing toolbar at finger
size and the meeting list on a projector."""

import math
import re
from datetime import date, timedelta
from itertools import combinations

import pytest
from shapely.geometry import Point

from tests.conftest import local_only
from tracker.core import clock

UCHINOMAKI = (131.0400, 32.9717)
PHONE = {"width": 375, "height": 740}
KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@pytest.fixture
def open_page(browser):
    """Open pages in contexts of their own (size, language, JavaScript), offline."""
    contexts = []

    def open_(viewport=PHONE, lang="ja", **options):
        context = browser.new_context(
            viewport=viewport, locale="ja-JP", has_touch=viewport["width"] < 600, **options
        )
        context.route("**/*", local_only)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.lang = lang
        return page

    yield open_
    for context in contexts:
        context.close()


def boxes(page, selector: str) -> list[dict]:
    """Return the on-screen boxes of the visible elements matching a selector."""
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
            .map((el) => el.getBoundingClientRect())
            .filter((r) => r.width > 0 && r.height > 0)
            .map((r) => ({x: r.x, y: r.y, width: r.width, height: r.height}))""",
        selector,
    )


def overlap(a: dict, b: dict) -> bool:
    """Tell whether two boxes share any area."""
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


# --- /near on a phone -----------------------------------------------------------------------


@pytest.fixture
def crowded_works(make_project):
    """Four works on one spot, next to a designated shelter, and one finished long ago."""
    # 一の宮中学校体育館, a GSI designated shelter, stands at about this point.
    here = (131.1146, 32.9393)
    statuses = [("construction", 40), ("design", 0), ("planned", 0), ("suspended", 20)]
    for n, (status, progress) in enumerate(statuses):
        make_project(
            name=f"重なる工事 {n}", geometry=Point(*here), status=status, progress=progress
        )
    old = make_project(
        name="2年前に終わった工事",
        geometry=Point(here[0] + 0.001, here[1]),
        status="completed",
        progress=100,
        actual_end=clock.today() - timedelta(days=730),
    )
    return here, old


def test_near_on_a_phone_puts_results_first_with_coloured_pins_that_never_cover_each_other(
    live_server, open_page, crowded_works, artifacts_dir
):
    here, old = crowded_works
    page = open_page()
    page.goto(f"{live_server}/near?lat={here[1]}&lon={here[0]}&radius=500")
    page.wait_for_function("() => window.asoNearReady === true", timeout=15000)

    # The search is folded into one line; the list comes before the map.
    assert page.locator("details.near-search").get_attribute("open") is None
    works_top = page.locator("#h-works").bounding_box()["y"]
    assert works_top < PHONE["height"]  # on the first screen
    assert works_top < page.locator("#near-map").bounding_box()["y"]

    # Pins in their status's colour, with a legend naming each.
    colour = page.evaluate(
        "getComputedStyle(document.querySelector('.near-pin--construction')).backgroundColor"
    )
    assert colour == "rgb(230, 159, 0)"
    legend = page.locator(".near-legend").inner_text()
    for word in ("未着手", "設計中", "工事中", "完了", "中断", "避難所", "選んだ場所"):
        assert word in legend

    # Four works on one spot and a shelter beside them: every pin keeps a tap target of its
    # own, at every zoom.
    page.locator("#near-map").scroll_into_view_if_needed()
    for zoom_in in range(3):
        map_box = page.locator("#near-map").bounding_box()
        pins = [
            box
            for box in boxes(page, ".near-pin, .near-shelter-pin")
            if map_box["y"] <= box["y"]
            and box["y"] + box["height"] <= map_box["y"] + map_box["height"]
            and map_box["x"] <= box["x"]
            and box["x"] + box["width"] <= map_box["x"] + map_box["width"]
        ]
        assert len(pins) >= 5
        assert not [pair for pair in combinations(pins, 2) if overlap(*pair)]
        for box in pins:
            hit = page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y).className",
                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
            )
            assert "pin" in hit
        if zoom_in < 2:
            page.evaluate("AsoNear.map.zoomIn(1, {animate: false})")
    page.screenshot(path=str(artifacts_dir / "near_pins_375.png"), full_page=True)

    # Works finished more than a year ago are hidden until the reader asks for them.
    # Each work is drawn once (its numbered pin; no tile layer), and the toggle hides it whole.
    item = page.locator(f"#result-{old.id}")
    assert item.is_hidden() and "1 件を隠しています" in page.locator("#hidden-note").inner_text()
    assert page.evaluate("AsoNear.drawn()") == {"tileLayers": 0, "workPins": 4}
    before = len(boxes(page, ".near-pin"))
    page.get_by_label("完了した工事を隠す（完了から1年以上たったもの）").uncheck()
    assert item.is_visible() and len(boxes(page, ".near-pin")) == before + 1
    assert page.evaluate("AsoNear.drawn()") == {"tileLayers": 0, "workPins": 5}
    page.get_by_label("完了した工事を隠す（完了から1年以上たったもの）").check()
    assert item.is_hidden()
    assert page.evaluate("AsoNear.drawn()") == {"tileLayers": 0, "workPins": 4}
    assert page.errors == []


def test_without_javascript_the_hide_finished_toggle_is_a_form(
    live_server, open_page, crowded_works
):
    here, old = crowded_works
    page = open_page(java_script_enabled=False)
    page.goto(f"{live_server}/near?lat={here[1]}&lon={here[0]}&radius=500")
    assert page.locator(f"#result-{old.id}").is_hidden()
    page.get_by_label("完了した工事を隠す（完了から1年以上たったもの）").uncheck()
    page.get_by_role("button", name="表示を変える").click()
    page.wait_for_url(re.compile(r"hide_old=0"))
    assert page.locator(f"#result-{old.id}").is_visible()
    assert (
        page.get_by_label("完了した工事を隠す（完了から1年以上たったもの）").is_checked() is False
    )


def test_the_feed_link_explains_how_to_follow_and_the_feed_reads_as_a_page(
    live_server, open_page, make_project, artifacts_dir
):
    make_project(name="内牧の橋", geometry=Point(UCHINOMAKI[0], UCHINOMAKI[1] + 0.002))
    for lang, follow, heading, latest in (
        ("ja", "この範囲の工事の更新を受け取る", "阿蘇市 近くの工事", "最近の更新"),
        ("en", "Follow the works in this area", "Aso City: works within 1 km", "Latest updates"),
    ):
        page = open_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{live_server}/near?place=d-uchinomaki&radius=1000&lang={lang}")
        page.get_by_role("link", name=follow).click()
        assert page.get_by_role("heading", level=1).inner_text() == follow
        feed_url = page.locator("#feed-url").input_value()
        assert "/near/feed.atom?" in feed_url and feed_url.startswith("http")
        # The feed itself, opened in a browser, is shown through its stylesheet as a page.
        page.goto(feed_url)
        assert page.locator("h1").inner_text().startswith(heading)
        assert page.get_by_role("heading", name=latest).is_visible()
        assert page.locator(".feed-entries a", has_text="内牧の橋").count() >= 1
        page.screenshot(path=str(artifacts_dir / f"feed_in_browser_{lang}.png"))


# --- The city map ---------------------------------------------------------------------------


def test_without_javascript_the_city_map_lists_works_by_district(
    live_server, open_page, make_project
):
    work = make_project(name="内牧の橋", geometry=Point(UCHINOMAKI[0], UCHINOMAKI[1] + 0.002))
    page = open_page(java_script_enabled=False)
    page.goto(live_server + "/")
    area = page.locator("#area-d-uchinomaki")
    assert area.is_visible() and area.inner_text().startswith("内牧")
    link = page.get_by_role("link", name="内牧の橋")
    assert link.is_visible() and link.get_attribute("href") == f"/projects/{work.id}"
    assert not page.locator(".map-frame").is_visible()


@pytest.fixture
def scattered_works(make_project):
    """Ninety small works of four kinds around Uchinomaki: some cells mixed, some alone."""
    kinds = ["bridge", "sabo", "seismic", "shelter"]
    for i in range(90):
        # A spiral: dense near its middle, sparse at its edge, as works are around a town.
        angle, reach = i * 2.4, 0.0004 * i
        make_project(
            name=f"散らばる工事 {i}",
            kind=kinds[i % len(kinds)],
            geometry=Point(UCHINOMAKI[0] + reach * math.cos(angle),
                           UCHINOMAKI[1] + reach * math.sin(angle)),
        )  # fmt: skip


def test_on_a_phone_the_city_maps_groups_never_overlap(
    live_server, open_page, scattered_works, artifacts_dir
):
    page = open_page()
    page.goto(live_server + "/")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    seen_mixed = False
    for zoom in (12, 13, 14, 15):
        page.evaluate(
            "([z, lat, lon]) => AsoProjects.currentMap().setView([lat, lon], z, {animate: false})",
            [zoom, UCHINOMAKI[1], UCHINOMAKI[0]],
        )
        page.wait_for_function(
            "(z) => AsoProjects.currentMap().getZoom() === z && AsoProjects.drawnPins().length > 0",
            arg=zoom,
        )
        page.wait_for_timeout(300)  # every tile of the view drawn
        pins = page.evaluate("AsoProjects.drawnPins()")
        clashes = [(a, b) for a, b in combinations(pins, 2) if overlap(a, b)]
        assert clashes == [], (zoom, clashes[:3])
        # A group of several kinds shows its count alone.
        seen_mixed = seen_mixed or any(p["group"] and p["text"].isdigit() for p in pins)
        if zoom == 13:
            page.screenshot(path=str(artifacts_dir / "city_map_groups_375.png"))
    assert seen_mixed
    assert page.errors == []


def test_the_english_map_has_english_pins_credits_and_controls(
    live_server, open_page, make_project
):
    make_project(name="宮地橋 補修", status="construction")
    page = open_page(viewport={"width": 1280, "height": 800})
    page.goto(live_server + "/?lang=en")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    pins = page.locator(".aso-pin, .aso-cluster").all_inner_texts()
    assert pins and not [text for text in pins if KANJI.search(text)]
    credit = page.locator(".leaflet-control-attribution")
    assert credit.locator("a", has_text="GSI Tiles").count() == 1
    assert credit.locator('span[lang="ja"]').inner_text() == "地理院タイル"
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom in"
    toggle = page.locator(".leaflet-control-layers-toggle")
    assert toggle.get_attribute("title") == "Maps and works shown"
    legend = page.locator(".aso-legend").inner_text()
    assert "Under construction" in legend and "Bridge" in legend and not KANJI.search(legend)


# --- The drawing toolbar --------------------------------------------------------------------


def test_drawing_toolbar_icons_are_whole_at_44_px(
    live_server, open_page, client, login_as, make_user, artifacts_dir
):
    login_as(make_user("staff"))
    cookie = client.get_cookie("session").value
    for viewport in (PHONE, {"width": 1280, "height": 800}):
        page = open_page(viewport=viewport)
        page.context.add_cookies([{"name": "session", "value": cookie, "url": live_server}])
        page.goto(live_server + "/projects/new")
        buttons = page.evaluate(
            """() => Array.from(document.querySelectorAll('.leaflet-draw-toolbar a'))
                .filter((a) => a.offsetWidth > 0)
                .map((a) => {
                  const s = getComputedStyle(a);
                  return {title: a.title, width: a.offsetWidth, height: a.offsetHeight,
                          size: s.backgroundSize, x: parseFloat(s.backgroundPositionX)};
                })"""
        )
        assert len(buttons) == 5  # line, area, point; edit, remove
        for button in buttons:
            assert button["width"] >= 44 and button["height"] >= 44, button
            # The sprite has one 44 px cell per icon: the button shows exactly one cell.
            assert set(button["size"].split(", ")) == {"440px 44px"}, button
            assert button["x"] % 44 == 0, button
        titles = [b["title"] for b in buttons]
        assert titles[:3] == ["線を描く", "面を描く", "点を置く"]
        page.locator(".leaflet-draw-toolbar").first.screenshot(
            path=str(artifacts_dir / f"draw_toolbar_{viewport['width']}.png")
        )


# --- The meeting list on a projector --------------------------------------------------------


def test_the_meeting_list_reads_from_the_back_of_the_room(
    live_server, open_page, make_project, artifacts_dir
):
    statuses = ["planned", "design", "construction", "completed", "suspended"]
    for n in range(20):
        status = statuses[n % 5]
        make_project(
            name=f"阿蘇中央高校阿蘇清峰校舎体育館 非構造部材耐震化 第{n}期",
            kind="seismic",
            status=status,
            progress=100 if status == "completed" else 10,
            actual_end=date(2024, 3, 1) if status == "completed" else None,
            geometry=Point(131.05 + n * 0.005, 32.94),
        )
    page = open_page(viewport={"width": 1920, "height": 1080})
    page.goto(live_server + "/plan")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)

    sizes = page.evaluate(
        """() => Array.from(document.querySelectorAll('.meeting-side *'))
            .filter((el) => el.offsetWidth > 0 && Array.from(el.childNodes)
                .some((n) => n.nodeType === 3 && n.textContent.trim()))
            .map((el) => [el.tagName + '.' + el.className, parseFloat(getComputedStyle(el).fontSize)])"""
    )
    small = [s for s in sizes if s[1] < 18]
    assert sizes and small == []

    badges = page.evaluate(
        """() => {
          const side = document.querySelector('.meeting-side').getBoundingClientRect();
          return Array.from(document.querySelectorAll('#project-list .status')).map((b) => {
            const r = b.getBoundingClientRect();
            return {lines: b.getClientRects().length, height: r.height,
                    font: parseFloat(getComputedStyle(b).fontSize),
                    clipped: b.scrollWidth > b.clientWidth + 1 || r.right > side.right + 0.5};
          });
        }"""
    )
    assert len(badges) >= 20
    for badge in badges:
        assert badge["lines"] == 1 and badge["height"] < 2 * badge["font"], badge
        assert not badge["clipped"], badge

    # One kind filter: the sidebar's. The map's layer box offers base maps and the layers
    # beside the works (shelters, restrictions), never a kind.
    assert page.locator(".meeting-filters input[name=kind]").count() == 7
    switches = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert sorted(s.strip() for s in switches) == ["指定避難所", "通行規制"]
    assert page.locator(".leaflet-control-layers input[type=radio]").count() == 3
    page.screenshot(path=str(artifacts_dir / "meeting_projector_1920.png"))
    assert page.errors == []
