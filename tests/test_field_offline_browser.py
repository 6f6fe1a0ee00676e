"""A day in the field without signal, in headless Chromium on a 375 px phone: the staff map
opens offline with every script it needs and no error, from the tiles and data kept."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.test_staff_browser import PHONE, sign_in
from tests.test_staff_outbox_browser import go_offline
from tests.tile_source import serve_tiles


@pytest.fixture
def tiles(app):
    """The app's base map tiles come from a local tile source."""
    with serve_tiles() as source:
        app.config["MAP_TILE_URL"] = source.template
        yield source


def console_errors(page) -> list[str]:
    """Collect the page's console errors from now on."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} ({m.location.get('url')})")
        if m.type == "error"
        else None,
    )
    return errors


def open_staff_map(page, live_server) -> None:
    """Open /staff/ with signal and wait until the worker keeps it for offline use."""
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/staff/")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    expect(page.locator("html")).to_have_attribute("data-offline-copy", "kept", timeout=15_000)


def test_the_staff_map_opens_offline_with_its_scripts_and_no_error(
    live_server, tiles, page, client, login_as, make_user, make_project
):
    make_project(name="宮地駅前橋 補修")
    sign_in(page, live_server, client, login_as, make_user("staff"))
    errors = console_errors(page)
    open_staff_map(page, live_server)
    expect(page.locator(".aso-map")).to_have_attribute("data-restrictions-drawn", "0")
    assert tiles.requested, "the map drew no tile from the configured tile source"

    go_offline(page)
    errors.clear()  # the probes of go_offline fail, as they should
    page.reload()
    map_box = page.locator(".aso-map")
    expect(map_box).to_be_visible()
    page.wait_for_function("() => window.asoOverlaysReady === true")
    assert page.evaluate("typeof window.AsoOverlays") == "object"
    assert page.errors == []
    assert errors == []


def keep_area_of_view(page, zooms: int = 1) -> None:
    """Keep the map's current view at its zoom and `zooms` more, the size shown first."""
    zoom = round(page.evaluate("window.AsoProjects.currentMap().getZoom()"))
    page.locator("#area-zmin").select_option(str(zoom))
    page.locator("#area-zmax").select_option(str(zoom + zooms))
    page.get_by_label("名前").fill("宮地の現場")
    save = page.get_by_role("button", name="この範囲を保存する")
    expect(save).to_be_disabled()
    page.get_by_role("button", name="大きさを見る").click()
    expect(page.locator("#area-size")).to_contain_text("MB")
    expect(save).to_be_enabled()
    save.click()
    expect(page.locator("#area-size")).to_have_text("保存しました", timeout=60_000)


def test_an_offline_area_draws_its_tiles_works_and_overlays_without_signal(
    live_server, tiles, page, client, login_as, make_user, make_project, artifacts_dir
):
    work = make_project(name="宮地駅前橋 補修")
    sign_in(page, live_server, client, login_as, make_user("staff"))
    errors = console_errors(page)
    open_staff_map(page, live_server)
    page.wait_for_function("() => window.asoMapReady === true")
    keep_area_of_view(page)

    item = page.locator("#area-list li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("宮地の現場")
    expect(item).to_contain_text(re.compile(r"\d+(\.\d)? (KB|MB) · 保存 "))
    expect(page.locator("#area-storage")).to_contain_text("使える量")
    # The update forms of the works inside the area are kept too.
    form = f"{live_server}/staff/projects/{work.id}"
    deadline = time.monotonic() + 15
    while not page.evaluate("(u) => caches.match(u).then(Boolean)", form):
        assert time.monotonic() < deadline, "the work's form was not kept with the area"
        page.wait_for_timeout(100)

    go_offline(page)
    served_before = len(tiles.requested)
    errors.clear()
    page.reload()
    page.wait_for_function("() => window.asoOverlaysReady === true && window.asoMapReady === true")
    # The base map comes from the kept tiles: drawn, and not one asked of the tile source.
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded').length > 0"
    )
    assert len(tiles.requested) == served_before
    page.wait_for_function(f"() => window.AsoProjects.drawnIds().indexOf({work.id}) >= 0")
    notice = page.locator("#offline-notice")
    expect(notice).to_contain_text("電波がありません")
    expect(notice).to_contain_text("宮地の現場")
    page.screenshot(path=str(artifacts_dir / "staff_offline_area_375.png"), full_page=True)
    assert page.errors == []
    assert errors == []

    # Leaving the kept area: the page says the map is missing there.
    page.evaluate("window.AsoProjects.currentMap().setView([33.3, 130.5], 12)")
    expect(notice).to_contain_text("保存した範囲の外")

    # A work of the area can be updated without signal, though its form was never opened.
    page.goto(form)
    expect(page.locator("h1")).to_contain_text("宮地駅前橋 補修")


def test_an_expired_area_says_so_and_an_area_can_be_deleted(
    live_server, tiles, page, client, login_as, make_user
):
    sign_in(page, live_server, client, login_as, make_user("staff"))
    open_staff_map(page, live_server)
    page.wait_for_function("() => window.asoMapReady === true")
    keep_area_of_view(page, zooms=0)
    assert page.evaluate("caches.keys()").count(
        "aso-area-" + page.evaluate("window.AsoAreas.list()[0].id")
    )

    # A month and a day later (the phone's clock), the area asks to be refreshed.
    page.evaluate("""() => {
        const list = window.AsoAreas.list();
        list[0].expires_at = Date.now() - 1000;
        localStorage.setItem("aso-offline-areas", JSON.stringify(list));
    }""")
    page.reload()
    item = page.locator("#area-list li")
    expect(item).to_contain_text("期限切れ")

    # Refreshed where there is signal: kept again, for another 30 days.
    item.get_by_role("button", name="更新").click()
    expect(page.locator("#area-size")).to_have_text("保存しました", timeout=60_000)
    expect(item).not_to_contain_text("期限切れ")
    assert page.evaluate("window.AsoAreas.list()[0].expires_at > Date.now()")

    item.get_by_role("button", name="削除").click()
    expect(item).to_have_count(0)
    assert not [k for k in page.evaluate("caches.keys()") if k.startswith("aso-area-")]


def test_an_area_around_a_work_found_by_name(
    live_server, tiles, page, client, login_as, make_user, make_project
):
    work = make_project(name="宮地駅前橋 補修")
    sign_in(page, live_server, client, login_as, make_user("staff"))
    open_staff_map(page, live_server)
    page.get_by_label("事業名で探す").fill("宮地駅前橋")
    page.get_by_role("button", name="探す", exact=True).click()
    expect(page.locator("#project-list li")).to_have_count(1)
    page.locator("#area-choice").select_option(f"work:{work.id}")
    page.get_by_label("半径（km、地区・事業の周り）").fill("0.5")
    page.locator("#area-zmin").select_option("14")
    page.locator("#area-zmax").select_option("14")
    page.get_by_role("button", name="大きさを見る").click()
    expect(page.locator("#area-size")).to_contain_text("背景地図")
    page.get_by_role("button", name="この範囲を保存する").click()
    expect(page.locator("#area-size")).to_have_text("保存しました", timeout=60_000)
    area = page.evaluate("window.AsoAreas.list()[0]")
    lon, lat = 131.11879, 32.937  # the work's place (make_project's default)
    assert area["west"] < lon < area["east"] and area["south"] < lat < area["north"]
    assert area["east"] - area["west"] < 0.02  # about 1 km across, not the whole view
