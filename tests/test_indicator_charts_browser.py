"""The indicator charts in Chromium: a small change against a large value (道路改良延長 426.9 →
429.4 km) drawn so that it shows, on an axis marked as cut; the published values filled where
the plan prints them. At 375 and 1920 px, in both languages."""

import pytest
from playwright.sync_api import expect
from shapely.geometry import LineString

from tests.conftest import local_only, watched_page

BAR_HEIGHTS = """(code) => [...document.querySelectorAll(
  `.chart-card[data-code="${code}"] rect.bar`)].map((r) => r.getBoundingClientRect().height)"""


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("lang, official", [("ja", "計画の基準値"), ("en", "plan baseline")])
def test_a_small_change_shows_on_a_cut_axis_and_the_published_values_are_filled(
    live_server, browser, make_project, width, lang, official, artifacts_dir
):
    # 5 km of improved road, completed this year: 426.9 → 431.9 km.
    make_project(
        name="市道 内牧線 改良",
        kind="road",
        status="completed",
        progress=100,
        indicator_codes=["m13_road_improved"],
        geometry=LineString([(131.00, 32.94), (131.0535, 32.94)]),
    )
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", local_only)
    page = watched_page(context)
    try:
        page.goto(f"{live_server}/plan/indicators?lang={lang}")
        road = page.locator(".chart-card[data-code='m13_road_improved']")
        expect(road.locator(".break-mark")).to_be_visible()
        heights = page.evaluate(BAR_HEIGHTS, "m13_road_improved")
        # The first bar (the baseline) and the last (with the new road) differ at a glance.
        assert heights[-1] > heights[0] * 1.5 and heights[0] > 0
        # An axis from zero where the change is large: no cut.
        bridges = page.locator(".chart-card[data-code='m13_bridges_repaired']")
        expect(bridges.locator(".break-mark")).to_have_count(0)
        # The published value where the plan prints one: the baseline year's, from the plan.
        cell = page.locator(".indicator-table tr[data-code='m13_road_improved'] td.official")
        expect(cell).to_contain_text("426.9")
        expect(cell).to_contain_text(official)
        cells = page.locator(".indicator-table td.official").all_inner_texts()
        assert len(cells) == 7 and all(not c.strip().startswith("—") for c in cells)
        assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        road.screenshot(path=str(artifacts_dir / f"chart_road_{lang}_{width}.png"))
        assert page.errors == []
    finally:
        context.close()
