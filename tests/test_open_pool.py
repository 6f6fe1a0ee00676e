"""A worker opens its database connections before it serves (gunicorn's post_worker_init),
each with what its first request would otherwise load: PostGIS and every table's catalogue."""

from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from tracker import create_app
from tracker.core.db import open_pool, warm_up_statement


def test_every_kept_connection_is_opened_and_warmed_before_the_first_request(database_url):
    app = create_app({"DATABASE_URL": database_url, "DB_POOL_SIZE": 3})
    engine = app.extensions["db_engine"]
    warmed: set[int] = set()

    @event.listens_for(engine, "before_cursor_execute")
    def note_warm_up(conn, cursor, statement, parameters, context, executemany):
        if statement == warm_up_statement().text:
            warmed.add(conn.connection.driver_connection.info.backend_pid)

    try:
        assert open_pool(app) == 3
        assert len(warmed) == 3
        # Kept open in the pool for the requests to come.
        assert engine.pool.checkedin() == 3 and engine.pool.checkedout() == 0
    finally:
        engine.dispose()


def test_connections_the_server_ended_while_idle_are_replaced_before_a_request_uses_them(
    database_url,
):
    app = create_app({"DATABASE_URL": database_url, "DB_POOL_SIZE": 3})
    engine = app.extensions["db_engine"]
    other = create_engine(database_url, poolclass=NullPool)
    try:
        kept = [engine.connect() for _ in range(3)]
        pids = [c.connection.driver_connection.info.backend_pid for c in kept]
        for connection in kept:
            connection.close()  # back into the pool, idle
        with other.connect() as admin:
            # As a server shutdown or an administrator ends them.
            for pid in pids:
                ended = admin.execute(
                    text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}
                )
                assert ended.scalar_one()
        client = app.test_client()
        for _ in range(4):  # more requests than kept connections
            assert client.get("/healthz").get_json() == {"database": "ok"}
        assert engine.pool.checkedin() == 3
    finally:
        engine.dispose()
        other.dispose()
