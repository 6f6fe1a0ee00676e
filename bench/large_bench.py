"""A prefecture's scale: 1,000,000 works. Only with BENCH_SIZES=large (or named on the
command line: `python -m bench.run large_bench`, which BENCH_SIZES=small runs at 10,000).

Prints how long the database took to build, then the map's first draw in Chromium (its page
kept, and made afresh just after a change), tiles with nothing kept, the /near page, the
indicators, one OGC feature against tipg (tipg's time divided by ours, with our time for an
answer that reads nothing beside it, and gunicorn's for a WSGI app that does nothing) and the
import rate of a 10,000-row CSV into the large database.
"""

import random
import statistics
import time

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.imports_bench import _rate, cp932_csv
from bench.map_bench import _draw
from bench.nearby_bench import _random_points
from bench.ogc_bench import _each_ms, _random_tiles, raise_data_version
from bench.run import city_points, percentile, timed_ms
from bench.servers import app_server, empty_wsgi_server, tipg_server
from config import CHROMIUM, CHROMIUM_ARGS
from tracker import create_app
from tracker.indicators.queries import indicator_values

LARGE = True
PROJECTS = 1_000_000
NEAR_POINTS = 200
NEAR_WARM_UP = 5
ITEM_SAMPLES = 50
IMPORT_ROWS = 10_000


def _ids(url: str, count: int) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = list(
            conn.scalars(
                text("SELECT id FROM projects WHERE is_public ORDER BY random() LIMIT :n"),
                {"n": count},
            )
        )
    engine.dispose()
    return ids


def _first_draw(base: str, database_url: str) -> tuple[float, float]:
    """Return the map's median first draw as most readers find it (its page kept) and as
    the first reader after a change finds it (the page made afresh)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            _draw(browser, base)  # warm-up
            kept = statistics.median(_draw(browser, base)[0] for _ in range(3))
            afresh = []
            for _ in range(3):
                raise_data_version(database_url)
                afresh.append(_draw(browser, base)[0])
            return kept, statistics.median(afresh)
        finally:
            browser.close()


def run(ctx):
    """Yield the large-scale figures."""
    n = ctx.size(PROJECTS)
    start = time.perf_counter()
    url = ctx.database(n)
    yield f"build_s_{n}", round(time.perf_counter() - start, 1)

    http = requests.Session()
    http.headers["Accept-Encoding"] = "identity"
    rng = random.Random(31)
    # The first few warm the server up and are not measured: a page asked for again is kept.
    near_paths = [
        f"/near?lat={lat:.5f}&lon={lon:.5f}&radius=1000"
        for lat, lon in _random_points(url, (20 if ctx.small else NEAR_POINTS) + NEAR_WARM_UP)
    ]
    warm_up_paths, near_paths = near_paths[:NEAR_WARM_UP], near_paths[NEAR_WARM_UP:]
    tiles = _random_tiles(seed=12)
    tile_paths = [
        f"/ogc/collections/projects/tiles/WebMercatorQuad/{z}/{y}/{x}" for z, x, y in tiles
    ]
    ids = _ids(url, ITEM_SAMPLES)
    with app_server(url) as ours:
        kept, afresh = _first_draw(ours, url)
        yield f"map_first_draw_ms_{n}", round(kept)
        yield f"map_first_draw_afresh_ms_{n}", round(afresh)
        _each_ms(http, [ours + p for p in warm_up_paths])
        yield (
            f"near_p95_ms_{n}",
            round(percentile(_each_ms(http, [ours + p for p in near_paths]), 95), 1),
        )
        # Each side reads the same features once untimed first: the one measured second
        # would otherwise find in PostgreSQL's buffers the pages the first had read.
        _each_ms(http, [f"{ours}/ogc/collections/projects/items/{i}" for i in ids])
        item_ms = statistics.median(
            _each_ms(http, [f"{ours}/ogc/collections/projects/items/{i}" for i in ids])
        )
        # The same client's time for an answer that reads nothing: what any answer of ours
        # costs over HTTP here, beneath which no feature can come.
        floor_ms = statistics.median(_each_ms(http, [f"{ours}/ogc/conformance"] * len(ids)))
    with app_server(url, ANSWER_CACHE_MB="0") as ours:
        _each_ms(http, [ours + p for p in tile_paths[:10]])
        unkept = _each_ms(http, [ours + p for p in tile_paths])
    yield f"tile_p95_unkept_ms_{n}", round(percentile(unkept, 95), 1)
    with tipg_server(url) as tipg:
        _each_ms(http, [f"{tipg}/collections/public.projects/items/{i}" for i in ids])
        tipg_ms = statistics.median(
            _each_ms(http, [f"{tipg}/collections/public.projects/items/{i}" for i in ids])
        )
    with empty_wsgi_server() as empty:
        _each_ms(http, [f"{empty}/"] * len(ids))
        empty_ms = statistics.median(_each_ms(http, [f"{empty}/"] * len(ids)))
    yield f"ogc_item_ms_{n}", round(item_ms, 2)
    yield f"tipg_item_ms_{n}", round(tipg_ms, 2)
    yield f"ogc_conformance_ms_{n}", round(floor_ms, 2)
    # What 1.5× tipg asks of our one feature, and gunicorn's time for an app that answers
    # `{}` and does nothing else: the least any answer served the way ours are can take.
    yield f"ogc_item_goal_ms_{n}", round(tipg_ms / 1.5, 2)
    yield f"wsgi_empty_ms_{n}", round(empty_ms, 2)
    yield f"ogc_item_vs_tipg_{n}", round(tipg_ms / item_ms, 2)

    engine = create_engine(url)
    with Session(engine) as session:
        figures = lambda: indicator_values(session, include_private=True)  # noqa: E731
        yield f"indicators_ms_{n}", round(timed_ms(figures, repeat=5), 1)
        rows = ctx.size(IMPORT_ROWS)
        points = city_points(session, rows, seed=rng.randrange(1000))
    app = create_app({"DATABASE_URL": url})
    data = cp932_csv(points)
    _rate(app, engine, data, "works.csv", rows, dry_run=True)  # warm-up
    yield "import_rows_per_s", round(_rate(app, engine, data, "works.csv", rows, dry_run=False))
    engine.dispose()
