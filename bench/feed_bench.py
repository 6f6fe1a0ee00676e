"""The public feed in its densest case: a 3 km circle in the middle of the city at 100,000
works (about 10,000 works and 13,600 history rows in the circle). An anonymous request, so
its time is what a few curious residents cost the database.
"""

from sqlalchemy import create_engine, text

from bench.run import timed_ms

PROJECTS = 100_000
LAT, LON, RADIUS = 32.96, 131.087, 3000
FEED = f"/near/feed.atom?lat={LAT}&lon={LON}&radius={RADIUS}"


def _in_circle(url: str) -> tuple[int, int]:
    """Return how many works and history rows lie in the circle."""
    engine = create_engine(url)
    with engine.connect() as conn:
        works, history = conn.execute(
            text(
                "SELECT count(DISTINCT p.id), count(u.id) FROM projects p"
                " LEFT JOIN status_updates u ON u.project_id = p.id"
                " WHERE ST_DWithin(p.geom::geography,"
                "  ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius)"
            ),
            {"lat": LAT, "lon": LON, "radius": RADIUS},
        ).one()
    engine.dispose()
    return works, history


def run(ctx):
    """Yield the dense feed's time, with what the circle holds."""
    n = ctx.size(PROJECTS)
    url = ctx.database(n)
    # Made afresh each time (nothing kept in the process), then as a crowd meets it: kept.
    made = ctx.app(n, ANSWER_CACHE_MB=0).test_client()
    kept = ctx.app(n).test_client()

    def feed(client):
        answer = client.get(FEED, headers={"Accept": "application/atom+xml"})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]

    yield "feed_dense_ms", round(timed_ms(lambda: feed(made), repeat=9), 1)
    yield "feed_dense_kept_ms", round(timed_ms(lambda: feed(kept), repeat=9), 1)
    works, history = _in_circle(url)
    yield "feed_dense_works", works
    yield "feed_dense_history_rows", history
