"""A day in the field without signal, in headless Chromium on a 375 px phone: the staff map
opens offline with every script it needs and no error, from the tiles and data kept."""

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
