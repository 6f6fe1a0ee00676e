"""The city map at 10,000 projects: page build time and weight, and its one data layer."""

import gzip

from bench.run import timed_ms

PROJECTS = 10_000


def run(ctx):
    """Yield the map figures."""
    n = ctx.size(PROJECTS)
    client = ctx.app(n).test_client()
    page = client.get("/")
    assert page.status_code == 200, page.status_code
    features = client.get("/map/projects.geojson")
    assert features.status_code == 200, features.status_code

    yield f"map_build_ms_{n}", round(timed_ms(lambda: client.get("/")), 1)
    yield f"map_html_kb_{n}", round(len(page.data) / 1024, 1)
    yield f"map_features_ms_{n}", round(timed_ms(lambda: client.get("/map/projects.geojson")), 1)
    yield f"map_features_kb_{n}", round(len(features.data) / 1024, 1)
    yield f"map_features_gzip_kb_{n}", round(len(gzip.compress(features.data, 5)) / 1024, 1)
    yield (
        f"map_transfer_gzip_kb_{n}",
        round((len(gzip.compress(page.data, 5)) + len(gzip.compress(features.data, 5))) / 1024, 1),
    )
    yield f"api_projects_ms_{n}", round(timed_ms(lambda: client.get("/api/projects")), 1)
