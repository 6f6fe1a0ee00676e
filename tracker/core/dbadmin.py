"""Create throwaway databases (tests, benchmarks) from the PostGIS template."""

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TEMPLATE_DB = "aso_tracker_template"


def recreate_database(url: str) -> None:
    """Drop and create a database with PostGIS, from the template when there is one."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        has_template = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": TEMPLATE_DB}
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        template = f" TEMPLATE {TEMPLATE_DB}" if has_template else ""
        conn.execute(text(f'CREATE DATABASE "{target.database}"{template}'))
    admin.dispose()
    if not has_template:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        engine.dispose()
