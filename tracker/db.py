"""Database engine, declarative base and the per-request session."""

from datetime import datetime

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Named constraints let Alembic drop and rename them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every timestamp is stored with its time zone.
    type_annotation_map = {datetime: DateTime(timezone=True)}


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and commit once per successful request."""
    engine = create_engine(app.config["DATABASE_URL"], pool_pre_ping=True)
    # Tests hand in a connection inside an outer transaction; sessions then use savepoints.
    bind = app.config.get("DB_CONNECTION") or engine
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(
        bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    app.after_request(_commit_on_success)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def _commit_on_success(response):
    session = g.get("db_session")
    if session is not None and response.status_code < 400:
        session.commit()
    return response


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def copy_rows(session: Session, table: str, columns: tuple[str, ...], rows) -> None:
    """Write many rows with COPY on the session's own connection (inside its transaction).

    The fastest way PostgreSQL takes thousands of rows; the table's constraints and
    triggers still apply. Geometries go in as hex EWKB, JSON as text.
    """
    session.flush()
    raw = session.connection().connection.driver_connection
    names = ", ".join(columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
