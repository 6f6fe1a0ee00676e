"""The meeting map and the print sheet in real Chromium, offline."""

import io
import re

from PIL import Image
from playwright.sync_api import expect
from shapely.geometry import LineString


def test_meeting_map_draws_the_filtered_works_beside_the_list(
    live_server, page, make_project, artifacts_dir
):
    make_project(name="宮地橋 補修", status="completed", progress=100, plan_item_codes=["p1.m2.i1"])
    make_project(
        name="市道 改良",
        kind="road",
        status="construction",
        progress=40,
        plan_item_codes=["p1.m2.i1"],
        geometry=LineString([(131.04, 32.94), (131.05, 32.945)]),
    )
    make_project(name="別の施策の事業", kind="sabo", plan_item_codes=["p1.m2.i2"])

    page.goto(live_server + "/plan?plan_item=p1.m2.i1")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)

    assert page.evaluate("window.asoFeatureCount") == 2
    assert page.locator("#project-list li").count() == 2
    assert page.locator("#project-list").inner_text().count("別の施策の事業") == 0
    assert page.locator("select[name=plan_item]").input_value() == "p1.m2.i1"
    map_box = page.locator(".meeting-map .aso-map").bounding_box()
    assert map_box["width"] > 700 and map_box["height"] > 600  # fills the screen beside the list
    assert page.errors == []
    page.screenshot(path=str(artifacts_dir / "meeting_map.png"))

    # A listed work can be found on the map from the list.
    for name in ("市道 改良", "宮地橋 補修"):
        page.locator("#project-list li", has_text=name).get_by_role("button").click()
        # The map may first zoom to open the popup: wait for it, up to Playwright's timeout.
        expect(page.locator(".leaflet-popup-content", has_text=name)).to_be_visible()

    # Changing a filter reloads with it in the URL, so the view can be shared.
    page.locator("input[name=status][value=completed]").check()
    page.locator(".meeting-filters button[type=submit]").click()
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    assert "status=completed" in page.url
    assert page.evaluate("window.asoFeatureCount") == 1
    assert page.locator("#project-list li").count() == 1


def media_boxes(pdf: bytes) -> list[tuple[int, int]]:
    """Return the distinct page sizes of a PDF, rounded to whole points."""
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    return sorted({(round(float(w)), round(float(h))) for w, h in boxes})


def non_white_share(png: bytes) -> float:
    """Return the share of pixels darker than near-white."""
    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(histogram[:230]) / sum(histogram)


def test_print_sheet_renders_to_pdf_and_png_that_are_not_blank(
    live_server, page, make_project, artifacts_dir
):
    for i in range(5):
        lon = 131.02 + i * 0.03
        make_project(
            name=f"市道 {i}",
            kind="road",
            status="completed" if i % 2 else "construction",
            progress=50,
            geometry=LineString([(lon, 32.93), (lon, 32.96)]),
        )

    page.goto(live_server + "/plan/print?size=A4")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (artifacts_dir / "meeting_print_a4.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    assert media_boxes(pdf) == [(842, 595)]  # A4 landscape, in points
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1  # one sheet to take away

    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    png = page.screenshot(full_page=True)
    (artifacts_dir / "meeting_print_a4.png").write_bytes(png)
    assert non_white_share(png) > 0.05
    assert page.locator(".map-projects").count() == 2  # completed and construction paths
    assert "補修済橋梁数" in page.locator(".indicator-table").inner_text()
    assert page.errors == []

    page.goto(live_server + "/plan/print?size=A3")
    pdf_a3 = page.pdf(prefer_css_page_size=True, print_background=True)
    assert media_boxes(pdf_a3) == [(1191, 842)]  # A3 landscape
    assert len(re.findall(rb"/Type /Page\b", pdf_a3)) == 1
