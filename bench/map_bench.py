"""The city map: page build time and weight, and in Chromium (outside hosts blocked) the time
from navigation to the first project drawn and the JavaScript heap once the map is ready."""

import gzip
import statistics

from bench.run import timed_ms
from bench.servers import app_server
from config import CHROMIUM, CHROMIUM_ARGS

RUNS = 3


def _local_only(route):
    host = route.request.url.split("/")[2].split(":")[0]
    if host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


def _draw(browser, base: str) -> tuple[float, float]:
    """Open the map in a fresh context; return (ms to first project drawn, heap MB when ready)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    context.route("**/*", _local_only)
    page = context.new_page()
    try:
        page.goto(base + "/")
        page.wait_for_function("() => window.asoFirstProjectDrawnMs !== undefined", timeout=60_000)
        page.wait_for_function("() => window.asoMapReady === true", timeout=60_000)
        first_ms = page.evaluate("window.asoFirstProjectDrawnMs")
        cdp = context.new_cdp_session(page)
        cdp.send("HeapProfiler.collectGarbage")
        heap_mb = cdp.send("Runtime.getHeapUsage")["usedSize"] / 1024 / 1024
        return first_ms, heap_mb
    finally:
        context.close()


def run(ctx):
    """Yield the map figures."""
    from playwright.sync_api import sync_playwright

    small, large = ctx.size(10_000), ctx.size(100_000)
    client = ctx.app(small).test_client()
    page = client.get("/")
    assert page.status_code == 200, page.status_code
    yield f"map_build_ms_{small}", round(timed_ms(lambda: client.get("/")), 1)
    yield f"map_html_kb_{small}", round(len(page.data) / 1024, 1)
    yield f"map_html_gzip_kb_{small}", round(len(gzip.compress(page.data, 5)) / 1024, 1)
    yield f"api_projects_ms_{small}", round(timed_ms(lambda: client.get("/api/projects")), 1)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size in (small, large):
                with app_server(ctx.database(size)) as base:
                    _draw(browser, base)  # warm-up: server caches, compiled templates
                    runs = [_draw(browser, base) for _ in range(RUNS)]
                yield f"map_first_draw_ms_{size}", round(statistics.median(r[0] for r in runs))
                if size == large:
                    yield f"map_js_heap_mb_{size}", round(max(r[1] for r in runs), 1)
        finally:
            browser.close()
