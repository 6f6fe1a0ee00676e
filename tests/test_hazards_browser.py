"""Hazard layers on the meeting map, switched on in real Chromium with no internet."""

from tests.hazard_files import a31_zip, a33_zip, square
from tracker.hazards.loading import load_hazard_file

MIYAJI = (131.11879, 32.937)


def test_meeting_map_toggles_each_loaded_hazard_layer(
    live_server, page, session, tmp_path, artifacts_dir
):
    sediment = a33_zip(tmp_path / "a33", [(square(*MIYAJI), 1, 2, "宮地の急傾斜地")])
    flood = a31_zip(tmp_path / "a31", [(square(131.06, 32.94, 0.01), 24)])
    load_hazard_file(session, sediment, "A33.zip", "sediment")
    load_hazard_file(session, flood, "A31.zip", "flood")
    session.flush()

    page.goto(live_server + "/plan")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    control = page.locator(".leaflet-control-layers")
    control.hover()
    for label in ("土砂災害（急傾斜地の崩壊）", "洪水（浸水想定区域）"):
        assert control.get_by_text(label).count() == 1, label
    # Hazards with no zones loaded are not offered.
    assert control.get_by_text("土砂災害（地すべり）").count() == 0
    # Off until switched on: nothing fetched or drawn yet.
    assert page.locator(".aso-map").get_attribute("data-hazard-flood") is None

    control.get_by_text("洪水（浸水想定区域）").click()
    page.wait_for_function(
        "() => document.querySelector('.aso-map').getAttribute('data-hazard-flood') === '1'",
        timeout=10000,
    )
    assert page.locator(".leaflet-asoHazards-pane path").count() == 1
    assert "洪水浸水想定区域データ" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.errors == []
    page.screenshot(path=str(artifacts_dir / "meeting_map_hazards.png"))
