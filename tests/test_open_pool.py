"""A worker opens its database connections before it serves (gunicorn's post_worker_init),
each with what its first request would otherwise load: PostGIS and the works' table."""

from sqlalchemy import event

from tracker import create_app
from tracker.core.db import WARM_UP, open_pool


def test_every_kept_connection_is_opened_and_warmed_before_the_first_request(database_url):
    app = create_app({"DATABASE_URL": database_url, "DB_POOL_SIZE": 3})
    engine = app.extensions["db_engine"]
    warmed: set[int] = set()

    @event.listens_for(engine, "before_cursor_execute")
    def note_warm_up(conn, cursor, statement, parameters, context, executemany):
        if statement == WARM_UP.text:
            warmed.add(conn.connection.driver_connection.info.backend_pid)

    try:
        assert open_pool(app) == 3
        assert len(warmed) == 3
        # Kept open in the pool for the requests to come.
        assert engine.pool.checkedin() == 3 and engine.pool.checkedout() == 0
    finally:
        engine.dispose()
