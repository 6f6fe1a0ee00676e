"""Create throwaway databases (tests, benchmarks) from the PostGIS template."""

import time

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

TEMPLATE_DB = "aso_tracker_template"
# An autovacuum worker on a small database is done within moments.
AUTOVACUUM_WAIT_S = 60


def recreate_database(url: str) -> None:
    """Drop and create a database with PostGIS, from the template when there is one."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        has_template = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": TEMPLATE_DB}
        )
        _wait_for_autovacuum(conn, target.database)
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        template = f" TEMPLATE {TEMPLATE_DB}" if has_template else ""
        conn.execute(text(f'CREATE DATABASE "{target.database}"{template}'))
    admin.dispose()
    if not has_template:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        engine.dispose()


def _wait_for_autovacuum(conn: Connection, database: str | None) -> None:
    """Keep autovacuum out of the database and wait for a worker already in it to finish.

    DROP DATABASE ... WITH (FORCE) ends the connections of the database's own role, but an
    autovacuum worker runs as the superuser, which that role may not end: the drop would fail.
    Without connections allowed, autovacuum does not start there again.
    """
    exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database})
    if not exists:
        return
    conn.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false'))
    deadline = time.monotonic() + AUTOVACUUM_WAIT_S
    worker = text(
        "SELECT 1 FROM pg_stat_activity WHERE datname = :n AND backend_type = 'autovacuum worker'"
    )
    while conn.scalar(worker, {"n": database}) and time.monotonic() < deadline:
        time.sleep(0.05)
