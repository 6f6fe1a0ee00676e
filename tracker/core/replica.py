"""Whether the read replica may answer now: a cached check of its health and its lag.

Each app process checks the replica at most once every REPLICA_CHECK_S seconds, in the
request that finds the last verdict out of date (other requests meanwhile keep the last
verdict, never waiting). A replica that cannot be reached, or that lags more than
REPLICA_MAX_LAG_S behind the primary, sends reads to the primary; one that failed a
connection is not tried again for REPLICA_RETRY_S seconds. Each change of verdict is logged
once, and /metrics shows the replica's state, its lag and the reads that went to the primary.

Each check also notes how far the replica has replayed the primary's WAL (a position, LSN),
so that a client that wrote up to some position reads the replica once it is past it.
"""

import logging
import math
import re
import threading
import time
from dataclasses import dataclass

from prometheus_client import Counter, Gauge
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("tracker.replica")

# Kept with the replica they describe (core cannot import serving); a scrape of /metrics
# shows them with every other figure. Under gunicorn each worker checks for itself: the
# most recent verdict of any living worker is the one shown.
REPLICA_UP = Gauge(
    "tracker_replica_up", "1 when the read replica answers, 0 when it cannot be reached",
    multiprocess_mode="livemostrecent",
)  # fmt: skip
REPLICA_LAG = Gauge(
    "tracker_replica_lag_seconds",
    "How far the read replica's replay is behind the primary (NaN when it cannot be reached)",
    multiprocess_mode="livemostrecent",
)
REPLICA_FALLBACKS = Counter(
    "tracker_replica_fallbacks_total",
    "Read-only requests answered from the primary because the replica was unavailable or"
    " lagging, or had not yet replayed the client's own write (own_write)",
    ["reason"],
)

OK = "ok"
LAGGING = "lagging"
UNAVAILABLE = "unavailable"
OWN_WRITE = "own_write"

# How far the replica has replayed the primary's WAL. A server that is not (or no longer) in
# recovery, such as a promoted replica, has all it wrote itself.
REPLAYED = (
    "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END"
)
# The lag is the replica's own clock against the time the primary committed the last
# transaction it replayed: a reading of the database, not an instant of the app (whose
# clock tests move). A replica that has replayed all it received is caught up (lag 0):
# on an idle primary the time since the last commit keeps growing, yet nothing is missing.
LAG_QUERY = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()"
    " THEN 0.0"
    " ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,"
    f" ({REPLAYED})::text"
)
REPLAYED_QUERY = text(f"SELECT ({REPLAYED})::text")
LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def parse_lsn(value: str | None) -> int | None:
    """Read a WAL position as PostgreSQL writes it ("16/B374D848": two hex halves) as one
    number, comparable with another; None when it is not one."""
    match = LSN.fullmatch(value.strip()) if value else None
    if match is None:
        return None
    return (int(match[1], 16) << 32) | int(match[2], 16)


@dataclass(frozen=True)
class Verdict:
    """What the last check found: `state` ok, lagging or unavailable; `lag_s` when known;
    `reason` why it could not be reached."""

    state: str
    lag_s: float | None
    until: float  # time.monotonic() until which it holds
    reason: str = ""


class ReplicaMonitor:
    """The read replica's health as this process last found it (thread-safe)."""

    def __init__(self, engine: Engine, *, max_lag_s: float, check_s: float, retry_s: float):
        self.engine = engine
        self.max_lag_s = max_lag_s
        self.check_s = check_s
        self.retry_s = retry_s
        self._verdict = Verdict(UNAVAILABLE, None, until=0.0)  # out of date: first use checks
        self._replayed = 0  # the furthest WAL position it was seen to have replayed
        self._checked_once = False
        self._checking = threading.Lock()

    def verdict(self) -> Verdict:
        """Return the current verdict, checking the replica first when it is out of date.

        While another thread checks, the last verdict stands (before the first check: the
        primary answers), so no request waits for another's check.
        """
        verdict = self._verdict
        if time.monotonic() < verdict.until or not self._checking.acquire(blocking=False):
            return verdict
        try:
            self._set(self._check())
            return self._verdict
        finally:
            self._checking.release()

    def replayed(self) -> int:
        """Return the furthest WAL position the replica was last seen to have replayed."""
        return self._replayed

    def note_replayed(self, position: int | None) -> None:
        """Note a WAL position the replica has replayed (replay only moves forward)."""
        if position is not None and position > self._replayed:
            self._replayed = position

    def mark_unreachable(self, error: BaseException) -> None:
        """Note a failed connection to the replica: reads skip it for REPLICA_RETRY_S."""
        self._set(self._unreachable(error))

    def check_again(self) -> None:
        """Have the next request check the replica (after a failure whose source is unsure)."""
        verdict = self._verdict
        self._verdict = Verdict(verdict.state, verdict.lag_s, 0.0, verdict.reason)

    def _check(self) -> Verdict:
        try:
            with self.engine.connect() as connection:
                lag, replayed = connection.execute(LAG_QUERY).one()
        except SQLAlchemyError as error:
            return self._unreachable(error)
        self.note_replayed(parse_lsn(replayed))
        until = time.monotonic() + self.check_s
        # No transaction replayed since it started, and still replaying: the lag is unknown.
        lag_s = float(lag) if lag is not None else math.inf
        state = OK if lag_s <= self.max_lag_s else LAGGING
        return Verdict(state, lag_s, until)

    def _unreachable(self, error: BaseException) -> Verdict:
        # The driver's first line says why ("connection refused"), without SQLAlchemy's notes.
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        return Verdict(UNAVAILABLE, None, time.monotonic() + self.retry_s, reason)

    def _set(self, verdict: Verdict) -> None:
        before = self._verdict
        self._verdict = verdict
        REPLICA_UP.set(0 if verdict.state == UNAVAILABLE else 1)
        REPLICA_LAG.set(verdict.lag_s if verdict.lag_s is not None else math.nan)
        if verdict.state == before.state and self._checked_once:
            return
        self._checked_once = True
        if verdict.state == UNAVAILABLE:
            log.warning("read replica unavailable, reads go to the primary: %s", verdict.reason)
        elif verdict.state == LAGGING:
            log.warning(
                "read replica %.1f s behind (limit %s s), reads go to the primary",
                verdict.lag_s,
                self.max_lag_s,
            )
        else:
            log.info("read replica answers reads (%.1f s behind)", verdict.lag_s)
