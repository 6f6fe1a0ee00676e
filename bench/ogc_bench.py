"""OGC API – Features and Tiles beside tipg, both over HTTP on the same bench database.

The `*_vs_tipg` figures are tipg's time divided by ours: above 1, ours is faster.
"""

import math
import random
import statistics
import time

import requests
from sqlalchemy import create_engine, text

from bench.run import percentile
from bench.servers import app_server, tipg_server

CITY = (131.0, 32.87, 131.25, 33.05)  # lon/lat box around Aso City
TILE_ZOOMS = range(10, 17)
TILE_SAMPLES = 200
ITEM_SAMPLES = 50


def _ms(session: requests.Session, url: str, repeat: int = 5) -> float:
    """Return the median time of GET url in ms, after one warm-up, checking it succeeds."""
    session.get(url).raise_for_status()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = session.get(url)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return statistics.median(times)


def raise_data_version(database_url: str) -> None:
    """Raise the data version, as any change does: no answer kept before is given again."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE data_version SET version = version + 1"))
    finally:
        engine.dispose()


def _cold_ms(session: requests.Session, url: str, database_url: str, repeat: int = 5) -> float:
    """Return the median time of GET url in ms, each time just after the data version rose
    (as after any change), so that no kept answer can serve it."""
    times = []
    for _ in range(repeat):
        raise_data_version(database_url)
        times += _each_ms(session, [url])
    return statistics.median(times)


def _each_ms(session: requests.Session, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        start = time.perf_counter()
        response = session.get(url)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return times


def _random_tiles(seed: int) -> list[tuple[int, int, int]]:
    rng = random.Random(seed)
    tiles = []
    for _ in range(TILE_SAMPLES):
        z = rng.choice(TILE_ZOOMS)
        lon, lat = rng.uniform(CITY[0], CITY[2]), rng.uniform(CITY[1], CITY[3])
        n = 2**z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        tiles.append((z, x, y))
    return tiles


def _ids(session: requests.Session, base: str, seed: int) -> list[int]:
    page = session.get(base + "/ogc/collections/projects/items?limit=10000").json()
    rng = random.Random(seed)
    return rng.sample([f["id"] for f in page["features"]], ITEM_SAMPLES)


def run(ctx):
    """Yield the OGC figures, ours and tipg's, in one run."""
    # BENCH_SIZES=small: a quick run on small databases, for CI.
    items_size, tiles_size = ctx.size(10_000), ctx.size(100_000)
    http = requests.Session()
    http.headers["Accept-Encoding"] = "identity"  # the same bytes from both servers

    url = ctx.database(items_size)
    with app_server(url) as ours:
        ids = _ids(http, ours, seed=7)
        items_ms = _ms(http, ours + "/ogc/collections/projects/items?limit=10000")
        cold_items_ms = _cold_ms(http, ours + "/ogc/collections/projects/items?limit=10000", url)
        item_ms = statistics.median(
            _each_ms(http, [f"{ours}/ogc/collections/projects/items/{i}" for i in ids])
        )
    with tipg_server(url) as tipg:
        tipg_items_ms = _ms(http, tipg + "/collections/public.projects/items?limit=10000")
        tipg_item_ms = statistics.median(
            _each_ms(http, [f"{tipg}/collections/public.projects/items/{i}" for i in ids])
        )
    yield f"ogc_items_ms_{items_size}", round(items_ms, 1)
    yield f"tipg_items_ms_{items_size}", round(tipg_items_ms, 1)
    yield "ogc_items_vs_tipg", round(tipg_items_ms / items_ms, 2)
    # Just after a change, before any answer is kept for the new data version.
    yield f"ogc_items_cold_ms_{items_size}", round(cold_items_ms, 1)
    yield "ogc_items_cold_vs_tipg", round(tipg_items_ms / cold_items_ms, 2)
    yield "ogc_item_ms", round(item_ms, 2)
    yield "tipg_item_ms", round(tipg_item_ms, 2)
    yield "ogc_item_vs_tipg", round(tipg_item_ms / item_ms, 2)

    url = ctx.database(tiles_size)
    tiles = _random_tiles(seed=12)
    # Tile paths: ours is OGC's tileMatrix/tileRow/tileCol (z/y/x), tipg's z/x/y.
    paths = [f"/ogc/collections/projects/tiles/WebMercatorQuad/{z}/{y}/{x}" for z, x, y in tiles]
    with app_server(url) as ours:
        _each_ms(http, [ours + path for path in paths[:10]])  # warm-up
        tile_times = _each_ms(http, [ours + path for path in paths])
    # The same tiles with no answers kept: every tile built by PostGIS.
    with app_server(url, ANSWER_CACHE_MB="0") as ours:
        _each_ms(http, [ours + path for path in paths[:10]])
        unkept_times = _each_ms(http, [ours + path for path in paths])
    with tipg_server(url) as tipg:
        tipg_urls = [
            f"{tipg}/collections/public.projects/tiles/WebMercatorQuad/{z}/{x}/{y}"
            for z, x, y in tiles
        ]
        _each_ms(http, tipg_urls[:10])
        tipg_times = _each_ms(http, tipg_urls)
    tile_p95 = percentile(tile_times, 95)
    tipg_p95 = percentile(tipg_times, 95)
    yield f"tile_p95_ms_{tiles_size}", round(tile_p95, 1)
    yield f"tipg_tile_p95_ms_{tiles_size}", round(tipg_p95, 1)
    yield "tile_p95_vs_tipg", round(tipg_p95 / tile_p95, 2)
    unkept_p95 = percentile(unkept_times, 95)
    yield f"tile_p95_unkept_ms_{tiles_size}", round(unkept_p95, 1)
    yield "tile_p95_unkept_vs_tipg", round(tipg_p95 / unkept_p95, 2)
