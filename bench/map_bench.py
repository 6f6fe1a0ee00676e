"""The city map at 10,000 projects: page build time and weight, and its one data layer."""

import gzip

from bench.run import timed_ms

PROJECTS = 10_000


def run(ctx):
    """Yield the map figures."""
    client = ctx.app(PROJECTS).test_client()
    page = client.get("/")
    assert page.status_code == 200, page.status_code
    features = client.get("/map/projects.geojson")
    assert features.status_code == 200, features.status_code

    yield "map_build_ms_10000", round(timed_ms(lambda: client.get("/")), 1)
    yield "map_html_kb_10000", round(len(page.data) / 1024, 1)
    yield "map_features_ms_10000", round(timed_ms(lambda: client.get("/map/projects.geojson")), 1)
    yield "map_features_kb_10000", round(len(features.data) / 1024, 1)
    yield "map_features_gzip_kb_10000", round(len(gzip.compress(features.data, 5)) / 1024, 1)
    yield (
        "map_transfer_gzip_kb_10000",
        round((len(gzip.compress(page.data, 5)) + len(gzip.compress(features.data, 5))) / 1024, 1),
    )
    yield "api_projects_ms_10000", round(timed_ms(lambda: client.get("/api/projects")), 1)
