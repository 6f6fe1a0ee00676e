"""Database engine, declarative base and the per-request session."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from flask import Flask, Response, current_app, g, request
from sqlalchemy import CursorResult, DateTime, MetaData, Result, Table, create_engine
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from tracker.core import clock

# Named constraints let Alembic drop and rename them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# PostGIS declares its functions costly, so the planner JIT-compiles queries that run in
# milliseconds; compiling a vector tile query took seconds. Every query here is short.
CONNECT_ARGS = {"options": "-c jit=off"}


def stamp_now(context: DefaultExecutionContext) -> datetime:
    """Stamp a row with the clock's instant: one instant for every column of one INSERT, so a
    new row's created_at and updated_at agree, as they did when SQL now() stamped them."""
    instant = getattr(context, "clock_instant", None)
    if instant is None:
        instant = clock.now()
        setattr(context, "clock_instant", instant)  # noqa: B010 (not an attribute it declares)
    return instant


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model maps one table (none maps a join or a select).
        __table__: ClassVar[Table]

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every timestamp is stored with its time zone.
    type_annotation_map = {datetime: DateTime(timezone=True)}


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and commit once per successful request."""
    engine = create_engine(
        app.config["DATABASE_URL"], pool_pre_ping=True, connect_args=CONNECT_ARGS
    )
    # Tests hand in a connection inside an outer transaction; sessions then use savepoints.
    bind = app.config.get("DB_CONNECTION") or engine
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(
        bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    read_url = app.config.get("DATABASE_READ_URL")
    if read_url:
        read_engine = create_engine(read_url, pool_pre_ping=True, connect_args=CONNECT_ARGS)
        app.extensions["db_read_engine"] = read_engine
        app.extensions["db_read_sessionmaker"] = sessionmaker(
            bind=read_engine, expire_on_commit=False
        )
    app.after_request(_commit_on_success)
    app.after_request(_remember_write)
    app.teardown_appcontext(_close_session)


# Read-only requests a streaming replica may answer: maps, tiles, the GET API and feeds.
# Everything else (staff pages, forms, sign-in) reads the primary.
REPLICA_BLUEPRINTS = frozenset(
    {"web", "api", "ogc", "near", "meeting", "indicators_api", "updates_api"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# After a write, the same browser reads the primary for a while, so it sees its own change
# even while the replica is a moment behind.
PRIMARY_COOKIE = "read_primary_until"
READ_YOUR_WRITES_S = 30


def reads_from_replica() -> bool:
    """Tell whether this request may be answered from the read replica."""
    if "db_read_sessionmaker" not in current_app.extensions:
        return False
    if request.method not in SAFE_METHODS or request.blueprint not in REPLICA_BLUEPRINTS:
        return False
    try:
        until = float(request.cookies.get(PRIMARY_COOKIE, "0"))
    except ValueError:
        until = 0.0
    return until < clock.now().timestamp()


def get_session() -> Session:
    """Return this request's session, opening it on first use (on the replica if allowed)."""
    if "db_session" not in g:
        name = "db_read_sessionmaker" if reads_from_replica() else "db_sessionmaker"
        g.db_session = current_app.extensions[name]()
    return g.db_session


def _commit_on_success(response: Response) -> Response:
    session = g.get("db_session")
    if session is not None and response.status_code < 400:
        session.commit()
    return response


def _remember_write(response: Response) -> Response:
    if (
        "db_read_sessionmaker" in current_app.extensions
        and request.method not in SAFE_METHODS
        and response.status_code < 400
    ):
        until = clock.now().timestamp() + READ_YOUR_WRITES_S
        response.set_cookie(
            PRIMARY_COOKIE, f"{until:.0f}", max_age=READ_YOUR_WRITES_S, httponly=True,
            samesite="Lax",
        )  # fmt: skip
    return response


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def rows_changed(result: Result) -> int:
    """Return how many rows an INSERT, UPDATE or DELETE changed."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"a change answers with a CursorResult, not {type(result).__name__}")
    return result.rowcount


def copy_rows(
    session: Session, table: str, columns: tuple[str, ...], rows: Iterable[Sequence[object]]
) -> None:
    """Write many rows with COPY on the session's own connection (inside its transaction).

    The fastest way PostgreSQL takes thousands of rows; the table's constraints and
    triggers still apply. Geometries go in as hex EWKB, JSON as text.
    """
    session.flush()
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the session's connection has no database connection under it")
    names = ", ".join(columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
