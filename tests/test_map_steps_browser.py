"""Maps built a step at a time (a phone's page never held still for long): what is put off
to a later task still reaches the map, and the map says it is ready only once it has."""

import json

from playwright.sync_api import expect
from shapely.geometry import Point

from tests.test_staff_browser import PHONE, sign_in

# Near the west and east ends and the north and south edges of the city.
CITY_EDGES = [(130.97, 32.96), (131.23, 32.96), (131.10, 33.03), (131.10, 32.89)]

# Every tile of the works' grid in view, and whether each is there and loaded.
TILES_IN_VIEW = """() => {
    const map = AsoProjects.currentMap();
    let grid = null;
    map.eachLayer((layer) => { if (layer instanceof L.VectorGrid) grid = layer; });
    const range = grid._pxBoundsToTileRange(grid._getTiledPixelBounds(map.getCenter()));
    const tiles = [];
    for (let x = range.min.x; x <= range.max.x; x++) {
        for (let y = range.min.y; y <= range.max.y; y++) {
            const tile = grid._tiles[x + ":" + y + ":" + grid._tileZoom];
            tiles.push(Boolean(tile && tile.loaded));
        }
    }
    return tiles;
}"""


def test_on_a_phone_the_city_map_is_ready_once_every_tile_in_view_is_drawn(
    live_server, page, make_project
):
    # The view's tiles are added a few per task, the middle first: the works at the city's
    # edges, in the tiles added last, are drawn when the map says it is ready.
    works = [
        make_project(name=f"端の事業 {n}", geometry=Point(*p)) for n, p in enumerate(CITY_EDGES)
    ]
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    tiles = page.evaluate(TILES_IN_VIEW)
    assert len(tiles) > 3 and all(tiles), tiles
    assert {w.id for w in works} <= set(page.evaluate("AsoProjects.drawnIds()"))
    assert page.errors == []


def test_the_kept_offline_areas_are_outlined_once_the_staff_map_is_built(
    live_server, page, client, login_as, make_user
):
    # The offline areas start after the map is built, not with the page: they still find
    # the map, outline the area kept on it and list it.
    sign_in(page, live_server, client, login_as, make_user("staff"))
    area = {
        "id": "1", "name": "宮地駅の周り", "west": 131.10, "east": 131.13,
        "south": 32.93, "north": 32.96, "zmin": 14, "zmax": 14, "bytes": 1000,
        "saved_at": 0, "expires_at": 4102444800000,
    }  # fmt: skip
    page.add_init_script(
        f"localStorage.setItem('aso-offline-areas', JSON.stringify([{json.dumps(area)}]));"
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/staff/")
    page.wait_for_function("() => window.asoMapReady === true", timeout=15000)
    expect(page.locator("#area-list li")).to_have_count(1)
    expect(page.locator(".aso-map path[stroke='#6a3d9a']")).to_have_count(1)
    assert page.errors == []
