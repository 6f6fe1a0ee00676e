"""In Chromium, at a phone's and a projector's width (320 px too for /restrictions), in both
languages: the restrictions page, detours drawn over their sections with a legend entry, the
feed's own page and /plan/changes fit the screen, read right and pass axe-core."""

from datetime import timedelta

import pytest
from shapely.geometry import LineString

from tests.conftest import local_only, watched_page
from tests.test_accessibility import AXE_SOURCE, RUN_AXE
from tracker.core import clock
from tracker.projects.history import append_status
from tracker.restrictions.operations import add_restriction

UCHINOMAKI = (131.0400, 32.9717)
SIZES = {"320": 320, "375": 375, "1920": 1920}
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def detoured(session, make_project):
    """A closure whose detour runs along its own section, as the sample's 門前町線 did."""
    road = make_project(
        name="内牧の市道", kind="road", status="construction", progress=30,
        geometry=LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.003, UCHINOMAKI[1])]),
    )  # fmt: skip
    section = LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.002, UCHINOMAKI[1])])
    add_restriction(
        session, road, kind="closed", starts_on=clock.today() - timedelta(days=1),
        description="終日通行止め", section=section,
        detour=LineString([UCHINOMAKI, (UCHINOMAKI[0] + 0.001, UCHINOMAKI[1] + 0.001),
                           (UCHINOMAKI[0] + 0.002, UCHINOMAKI[1])]),
    )  # fmt: skip
    append_status(session, road.id, status="construction", progress=35, note="舗装を始めました")
    return road


def open_page(browser, width, lang, **options):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="ja-JP", has_touch=width < 600, **options
    )
    context.route("**/*", local_only)
    page = watched_page(context)
    page.lang = lang
    return context, page


def serious(page) -> list:
    page.evaluate(AXE_SOURCE)
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_restrictions_page_fits_and_passes_axe(
    browser, live_server, detoured, lang, size, artifacts_dir
):
    for javascript in (True, False):
        context, page = open_page(browser, SIZES[size], lang, java_script_enabled=javascript)
        page.goto(f"{live_server}/restrictions?lang={lang}")
        heading = "通行規制の一覧" if lang == "ja" else "Traffic restrictions"
        assert page.locator("h1").inner_text() == heading
        assert page.locator(".restriction-card").count() == 1
        assert page.locator(".timeline-day").count() == 14
        assert page.evaluate(OVERFLOW) <= 0, f"{size}px scrolls sideways"
        if javascript:
            assert serious(page) == []
            page.screenshot(
                path=str(artifacts_dir / f"restrictions_{lang}_{size}.png"), full_page=True
            )
        else:
            page.select_option("#rf-kind", "alternating")
            page.locator(".restriction-filter button").click()
            assert "kind=alternating" in page.url
            assert page.locator(".restriction-card").count() == 0
        assert page.errors == []
        context.close()


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_detours_are_drawn_over_sections_with_a_legend_entry(
    browser, live_server, detoured, width, lang, artifacts_dir
):
    context, page = open_page(browser, width, lang)
    page.goto(f"{live_server}/near?lat={UCHINOMAKI[1]}&lon={UCHINOMAKI[0]}&radius=500&lang={lang}")
    page.wait_for_function("() => window.asoNearReady === true", timeout=15000)
    paths = page.evaluate(
        """() => Array.from(document.querySelectorAll('#near-map path'))
          .map((p) => p.getAttribute('class') || '')"""
    )
    detour = max(i for i, c in enumerate(paths) if "near-detour" in c)
    section = max(i for i, c in enumerate(paths) if "near-section" in c)
    assert detour > section, "the detour is painted under a section"
    legend = page.locator(".near-legend")
    assert legend.locator(".aso-legend__line--detour").count() == 1
    assert ("迂回路" if lang == "ja" else "Detour") in legend.inner_text()
    assert page.evaluate(OVERFLOW) <= 0
    page.screenshot(path=str(artifacts_dir / f"near_detour_{lang}_{width}.png"))
    # The work's own page: the same order, and the key beside its map.
    page.goto(f"{live_server}/projects/{detoured.id}?lang={lang}")
    classes = page.evaluate(
        "() => Array.from(document.querySelectorAll('.leaflet-overlay-pane path'))"
        ".map((p) => p.getAttribute('class') || '')"
    )
    assert max(i for i, c in enumerate(classes) if "aso-detour" in c) > max(
        i for i, c in enumerate(classes) if "aso-section" in c
    )
    assert page.locator(".map-key .aso-legend__line--detour").is_visible()
    assert page.errors == []
    context.close()


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_feed_opens_as_a_page_of_the_app(browser, live_server, detoured, width, lang):
    context, page = open_page(browser, width, lang)
    page.goto(
        f"{live_server}/near/feed.atom?lat={UCHINOMAKI[1]}&lon={UCHINOMAKI[0]}&radius=1000"
        f"&lang={lang}"
    )
    assert page.locator("#xslt-warning-banner").count() == 0
    latest = "最近の更新" if lang == "ja" else "Latest updates"
    assert page.get_by_role("heading", name=latest).is_visible()
    assert page.locator(".feed-entries a", has_text="内牧の市道").count() >= 1
    assert page.evaluate(OVERFLOW) <= 0
    assert serious(page) == []
    assert page.errors == []
    context.close()


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_changes_show_the_last_30_days_with_progress_and_restrictions(
    browser, live_server, detoured, width, lang
):
    context, page = open_page(browser, width, lang)
    page.goto(f"{live_server}/plan/changes?lang={lang}")
    rows = page.locator("tr[data-category]")
    categories = {rows.nth(i).get_attribute("data-category") for i in range(rows.count())}
    assert {"new", "progress", "restriction_added"} <= categories
    progress = page.locator('tr[data-category="progress"]').first
    assert progress.is_visible() and "舗装を始めました" in progress.inner_text()
    assert page.evaluate(OVERFLOW) <= 0
    assert serious(page) == []
    assert page.errors == []
    context.close()
