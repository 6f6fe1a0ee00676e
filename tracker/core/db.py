"""Database engine, declarative base and the per-request session."""

import select
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, AnyStr, ClassVar

import psycopg
import psycopg._queries
from flask import Flask, Response, current_app, g, request, stream_with_context
from sqlalchemy import (
    CursorResult,
    DateTime,
    Engine,
    Executable,
    MetaData,
    Result,
    Row,
    Select,
    Table,
    TextClause,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from tracker.core import clock
from tracker.core.replica import (
    OK,
    OWN_WRITE,
    REPLAYED_QUERY,
    REPLICA_FALLBACKS,
    UNAVAILABLE,
    ReplicaMonitor,
    Verdict,
    parse_lsn,
)

# psycopg turns a statement's %(name)s placeholders into $n with a regex on every run, unless
# the statement is short enough for its cache (4 KB, 50 parameters). The nearby search, a
# tile and an OGC feature are 5–10 KB with up to 70 parameters: each run converted them afresh,
# the largest single cost of a nearby answer in Python. The cache holds 128 statements, so a
# few MB at most; statements with more parameters (long IN lists of varying length) stay out.
psycopg._queries.MAX_CACHED_STATEMENT_LENGTH = 16_384
psycopg._queries.MAX_CACHED_STATEMENT_PARAMS = 100

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
# psycopg prepares a statement run five times, and PostgreSQL may then plan it once for any
# values: a tile's plan made for one zoom read a million works at another (30 ms became 4 s).
# Each run is planned for its own values.
CONNECT_ARGS = {"options": "-c jit=off -c plan_cache_mode=force_custom_plan"}
# A database host that does not answer at all (not even a refusal) costs a request this
# long before it is answered 503, or before its reads go to the primary.
PRIMARY_CONNECT_TIMEOUT_S = 10
REPLICA_CONNECT_TIMEOUT_S = 3


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


def _server_hung_up(dbapi_connection: Any) -> bool:
    """Tell whether the server has ended a connection that lay idle in the pool.

    An idle connection hears nothing from its server (nothing here LISTENs) but its last
    words, when the server shuts down or ends that backend, or the socket's closing: either
    makes the socket readable. Asking the socket costs microseconds; a ping on every checkout
    (pool_pre_ping) cost a round trip, a tenth of a small answer's time.
    """
    if dbapi_connection.closed:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _refuse_hung_up(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if _server_hung_up(dbapi_connection):
        # The pool drops this connection and hands out another (a new one if need be).
        raise DisconnectionError("the server ended this connection while it was idle")


def _engine(url: str, **options: Any) -> Engine:
    engine = create_engine(url, **options)
    event.listen(engine, "checkout", _refuse_hung_up)
    return engine


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and commit once per successful request."""
    # Up to DB_POOL_SIZE connections stay open; a burst beyond takes a few more, closed after.
    pool_size = int(app.config.get("DB_POOL_SIZE", 5))
    engine = _engine(
        app.config["DATABASE_URL"],
        pool_size=pool_size,
        max_overflow=max(5, pool_size // 2),
        connect_args=CONNECT_ARGS | {"connect_timeout": PRIMARY_CONNECT_TIMEOUT_S},
    )
    # Tests hand in a connection inside an outer transaction; sessions then use savepoints.
    bind = app.config.get("DB_CONNECTION") or engine
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(
        bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    read_url = app.config.get("DATABASE_READ_URL")
    if read_url:
        read_engine = _engine(
            read_url,
            connect_args=CONNECT_ARGS | {"connect_timeout": REPLICA_CONNECT_TIMEOUT_S},
        )
        app.extensions["db_read_engine"] = read_engine
        app.extensions["db_read_sessionmaker"] = sessionmaker(
            bind=read_engine, expire_on_commit=False
        )
        app.extensions["db_replica"] = ReplicaMonitor(
            read_engine,
            max_lag_s=float(app.config.get("REPLICA_MAX_LAG_S", 30)),
            check_s=float(app.config.get("REPLICA_CHECK_S", 5)),
            retry_s=float(app.config.get("REPLICA_RETRY_S", 15)),
        )
    # Flask runs these last registered first: the commit, then the write's WAL position.
    app.after_request(_remember_write)
    app.after_request(_commit_on_success)
    app.teardown_appcontext(_close_session)


def warm_up_statement() -> TextClause:
    """Return what each new connection runs before its first request (open_pool).

    A connection's first PostGIS call loads the extension's library into its server process,
    and its first query of a table reads that table's catalogue and its indexes' into the
    process: 15 to 50 ms for PostGIS and the works, 10 more for the tables around them
    (history, restrictions, shelters, places...), which the first request each connection
    served used to pay (a crowd's first seconds). Planning a query that reads nothing loads
    the same; every table the app maps, so that none is left out.
    """
    tables = ", ".join(
        f'EXISTS (SELECT FROM "{table.name}" WHERE false)' for table in Base.metadata.sorted_tables
    )
    return text(f"SELECT postgis_lib_version(), {tables}")


def open_pool(app: Flask) -> int:
    """Open every connection the app's pools keep, before the first request, each with what
    its first request would otherwise load (warm_up_statement); return how many.

    A worker that starts with an empty pool opens a connection for each of its threads on
    the first busy moment, each costing a request tens of milliseconds: under load that
    doubled gunicorn's 99th percentile (the development server's smaller pool opened fewer).
    """
    opened, warm_up = 0, warm_up_statement()
    for name in ("db_engine", "db_read_engine"):
        engine = app.extensions.get(name)
        if engine is None:
            continue
        # All at once, so that each is a new connection, then all back into the pool.
        connections = []
        try:
            for _ in range(engine.pool.size()):
                connections.append(engine.connect())
                connections[-1].execute(warm_up)
        finally:
            for connection in connections:
                connection.close()
        opened += len(connections)
    return opened


# Read-only requests a streaming replica may answer: maps, tiles, the GET API and feeds.
# Everything else (staff pages, forms, sign-in) reads the primary, and so does any request
# with credentials in its Authorization header (API tokens): such a client reads its own
# writes, and its GET's ETag is the version its PATCH is checked against.
REPLICA_BLUEPRINTS = frozenset(
    {"web", "api", "ogc", "near", "meeting", "indicators_api", "updates_api"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Read your writes: a successful write answers with the primary's WAL position after its
# commit, as a header and (for browsers) a cookie. A read that brings a position back reads
# the replica only once the replica has replayed that far, the primary until then. The
# position is not secret, and a forged one only sends its client to the primary.
CONSISTENCY_HEADER = "X-Consistency-Token"
CONSISTENCY_COOKIE = "consistency_token"
# The cookie goes once the replica has passed it; this only bounds a position it never
# reaches (a primary restored from a backup starts again from an earlier one).
CONSISTENCY_COOKIE_MAX_AGE_S = 3600
WAL_POSITION_QUERY = text("SELECT pg_current_wal_lsn()::text")


def reads_from_replica() -> bool:
    """Tell whether this request reads the read replica: decided once per request (it may
    be answered from the replica, the replica is up and close enough behind, and it has
    replayed the write whose position the request brings, if any)."""
    if "db_reads_replica" not in g:
        g.db_reads_replica = _may_read_replica() and _replica_ready() and _replica_has_seen()
    return bool(g.db_reads_replica)


def _may_read_replica() -> bool:
    if "db_read_sessionmaker" not in current_app.extensions:
        return False
    if request.method not in SAFE_METHODS or request.blueprint not in REPLICA_BLUEPRINTS:
        return False
    return "Authorization" not in request.headers


def _replica_ready() -> bool:
    verdict = current_app.extensions["db_replica"].verdict()
    if verdict.state != OK:
        REPLICA_FALLBACKS.labels(verdict.state).inc()
    return verdict.state == OK


def _position_to_see() -> int | None:
    """The WAL position this request must see: the furthest of its header and its cookie.

    Something there that is not a position reads the primary, as a position the replica
    has not reached does: a client that asked to see its writes is never shown less.
    """
    brought = [
        value
        for value in (
            request.headers.get(CONSISTENCY_HEADER),
            request.cookies.get(CONSISTENCY_COOKIE),
        )
        if value
    ]
    if not brought:
        return None
    positions = [parse_lsn(value) for value in brought]
    return max(p if p is not None else 1 << 64 for p in positions)


def _replica_has_seen() -> bool:
    """Tell whether the replica has replayed the position the request brings (if any).

    The position found by the last check is tried first; when it is short, the replica is
    asked once more, on the session this request would read, before the primary answers.
    """
    target = _position_to_see()
    monitor: ReplicaMonitor = current_app.extensions["db_replica"]
    if target is None:
        return True
    if target <= monitor.replayed():
        g.db_position_seen = True
        return True
    session = _replica_session()
    if session is None:
        return False
    try:
        monitor.note_replayed(parse_lsn(session.execute(REPLAYED_QUERY).scalar()))
    except DBAPIError as error:
        _replica_failed(session, error)
        return False
    if target <= monitor.replayed():
        g.db_session = session
        g.db_position_seen = True
        return True
    session.close()
    REPLICA_FALLBACKS.labels(OWN_WRITE).inc()
    return False


def replica_verdict() -> Verdict | None:
    """Return the read replica's state as this process knows it (None: no replica is set)."""
    monitor = current_app.extensions.get("db_replica")
    return monitor.verdict() if monitor is not None else None


def get_session() -> Session:
    """Return this request's session, opening it on first use (on the replica if allowed)."""
    if "db_session" not in g:
        session = _replica_session() if reads_from_replica() else None
        if session is None:
            g.db_reads_replica = False
            session = _primary_session()
        g.db_session = session
    return g.db_session


def streamed_from_database(pieces: Callable[[Session], Iterable[AnyStr]]) -> Iterator[AnyStr]:
    """Stream a response body read from the database while it is sent.

    Flask closes the request's session when the view returns, before the body is sent; a
    session taken then and used by the stream would open a connection that nothing closes
    (each streamed export kept one until the pool ran dry). The pieces are therefore made
    from a session taken as the stream starts, which Flask closes when the stream ends.
    """

    def stream() -> Iterator[AnyStr]:
        yield from pieces(get_session())

    return stream_with_context(stream())


def read_alone(statement: Executable, params: Mapping[str, Any]) -> Any:
    """Return the first column of the first row of one read, or None if there is no row.

    A request that has read nothing yet reads it outside a transaction (autocommit): one
    round trip to the server, where the session sends BEGIN, the statement and COMMIT, each
    a wait on a busy server. One statement sees one snapshot either way. A request already
    in a transaction (an earlier read, the replica's check, tests' outer transaction) reads
    it on its session.
    """
    row = read_row_alone(statement, params)
    return None if row is None else row[0]


def read_row_alone(statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
    """Return the first row of one read, read as read_alone reads it, or None."""
    session = get_session()
    bind = session.get_bind()
    if session.in_transaction() or not isinstance(bind, Engine):
        return session.execute(statement, params).first()
    with bind.connect() as connection:
        alone = connection.execution_options(isolation_level="AUTOCOMMIT")
        return alone.execute(statement, params).first()


def _primary_session() -> Session:
    return current_app.extensions["db_sessionmaker"]()


def _replica_session() -> Session | None:
    """Open a session on the replica, or None when the replica cannot be reached.

    Its connection is taken (and pinged) at once, so that a replica that has stopped is
    found before any query: the request then reads the primary, as do the next ones.
    """
    session: Session = current_app.extensions["db_read_sessionmaker"]()
    try:
        session.connection()
    except DBAPIError as error:
        _replica_failed(session, error)
        return None
    return session


def _replica_failed(session: Session, error: DBAPIError) -> None:
    session.close()
    current_app.extensions["db_replica"].mark_unreachable(error)
    REPLICA_FALLBACKS.labels(UNAVAILABLE).inc()


def database_unavailable(error: BaseException | None) -> bool:
    """Tell whether an error means the database cannot answer now (down, unreachable,
    overloaded, shutting down: worth trying again later), not that a query is wrong."""
    if isinstance(error, OperationalError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _commit_on_success(response: Response) -> Response:
    session = g.get("db_session")
    if session is not None and response.status_code < 400:
        session.commit()
    return response


def _remember_write(response: Response) -> Response:
    """After a committed write, hand the client the primary's WAL position (see
    CONSISTENCY_HEADER); after a read that the replica answered past its cookie, drop it."""
    if "db_read_sessionmaker" not in current_app.extensions or response.status_code >= 400:
        return response
    if request.method in SAFE_METHODS:
        if g.get("db_position_seen") and CONSISTENCY_COOKIE in request.cookies:
            response.delete_cookie(CONSISTENCY_COOKIE, httponly=True, samesite="Lax")
        return response
    position = _wal_position()
    response.headers[CONSISTENCY_HEADER] = position
    response.set_cookie(
        CONSISTENCY_COOKIE, position, max_age=CONSISTENCY_COOKIE_MAX_AGE_S, httponly=True,
        samesite="Lax",
    )  # fmt: skip
    return response


def _wal_position() -> str:
    """The primary's WAL position now, past this request's commit (one short query, on the
    request's own connection when it has one)."""
    session = g.get("db_session")
    if session is not None:
        return str(session.execute(WAL_POSITION_QUERY).scalar_one())
    with current_app.extensions["db_engine"].connect() as connection:
        return str(connection.execute(WAL_POSITION_QUERY).scalar_one())


def _close_session(exc: BaseException | None) -> None:
    if g.get("db_reads_replica") and database_unavailable(exc):
        # The replica (or the primary, for the write of a session's last use) failed
        # during the request: the next request checks the replica before using it.
        current_app.extensions["db_replica"].check_again()
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def rows_changed(result: Result) -> int:
    """Return how many rows an INSERT, UPDATE or DELETE changed."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"a change answers with a CursorResult, not {type(result).__name__}")
    return result.rowcount


def _driver_connection(session: Session) -> psycopg.Connection[Any]:
    """Return the psycopg connection under the session's own (inside its transaction)."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the session's connection has no database connection under it")
    return raw


def read_row_binary(session: Session, statement: Select[Any]) -> tuple[Any, ...]:
    """Read the one row of `statement` on the session's own connection (inside its
    transaction), in PostgreSQL's binary format.

    For rows of large arrays: psycopg parses a million-element array sent as text in about a
    second, twice as long as the same array in binary.
    """
    compiled = statement.compile(
        dialect=session.connection().dialect, compile_kwargs={"render_postcompile": True}
    )
    with _driver_connection(session).cursor(binary=True) as cursor:
        row = cursor.execute(str(compiled), compiled.params).fetchone()
    if row is None:
        raise ValueError("the statement answered no row")
    return tuple(row)


def copy_rows(
    session: Session, table: str, columns: tuple[str, ...], rows: Iterable[Sequence[object]]
) -> None:
    """Write many rows with COPY on the session's own connection (inside its transaction).

    The fastest way PostgreSQL takes thousands of rows; the table's constraints and
    triggers still apply. Geometries go in as hex EWKB, JSON as text.
    """
    session.flush()
    names = ", ".join(columns)
    with (
        _driver_connection(session).cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
