"""Nearby search at 100,000 projects: the API's p95 against the bare SQL's p95, same run.

Both answer the same random points inside the city with the same radii (the page's 500 m,
1 km and 3 km); the bare SQL is the API's own statement run on a plain connection, so the
gap is what Flask, input checks and the boundary test add.
"""

import random
import time

from sqlalchemy import create_engine, text

from bench.run import percentile
from tracker.core import clock
from tracker.geo.geometry import CITY_CODE
from tracker.near.queries import nearby_params, nearby_statement
from tracker.projects.queries import Circle

PROJECTS = 100_000
POINTS = 300
RADII = (500, 1000, 3000)


def _random_points(url: str, count: int) -> list[tuple[float, float]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_Y(d.geom), ST_X(d.geom) FROM city_boundaries b,"
                " ST_Dump(ST_GeneratePoints(b.geom, :n, 7)) d WHERE b.code = :code"
            ),
            {"n": count, "code": CITY_CODE},
        ).all()
    engine.dispose()
    return [(lat, lon) for lat, lon in rows]


def run(ctx):
    """Yield the nearby figures."""
    projects = ctx.size(PROJECTS)
    url = ctx.database(projects)
    client = ctx.app(projects).test_client()
    rng = random.Random(5)
    points = _random_points(url, 10 if ctx.small else POINTS)
    cases = [(lat, lon, rng.choice(RADII)) for lat, lon in points]
    engine = create_engine(url)
    today = clock.today()
    api_ms, sql_ms, sizes = [], [], []
    with engine.connect() as conn:
        # Warm both paths (caches, the app's first request) before measuring.
        for lat, lon, radius in cases[:10]:
            client.get(f"/api/projects/nearby?lat={lat}&lon={lon}&radius={radius}")
            conn.execute(nearby_statement(), nearby_params(Circle(lat, lon, radius), today=today))
        # Interleaved, so that both see the same machine at the same moment.
        for lat, lon, radius in cases:
            start = time.perf_counter()
            answer = client.get(f"/api/projects/nearby?lat={lat}&lon={lon}&radius={radius}")
            api_ms.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            sizes.append(len(answer.data))

            start = time.perf_counter()
            conn.execute(
                nearby_statement(), nearby_params(Circle(lat, lon, radius), today=today)
            ).scalar()
            sql_ms.append((time.perf_counter() - start) * 1000)
    engine.dispose()

    api_p95, sql_p95 = percentile(api_ms, 95), percentile(sql_ms, 95)
    yield f"nearby_p95_ms_{projects}", round(api_p95, 1)
    yield f"nearby_sql_p95_ms_{projects}", round(sql_p95, 1)
    yield f"nearby_p95_ratio_{projects}", round(api_p95 / sql_p95, 2)
    yield f"nearby_kb_median_{projects}", round(sorted(sizes)[len(sizes) // 2] / 1024, 1)
