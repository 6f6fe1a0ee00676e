"""Answers kept in this process for the data version they were read at.

PostgreSQL raises the data version (table data_version, see migration ogc2) in the same
commit as any change to the projects, their history and plan links, restrictions, facilities
or hazard zones. An answer kept under the version it was read at stays right as long as that
version stands; after a change the old keys are never asked for again, and the least recently
used answers make room. The version is read before the answer, so an answer is never older
than its key. Beside it, the places version (migration pv1) rises only when works are added,
removed, moved, renamed, hidden or shown: what depends on no more than that is kept across
changes of status.
"""

import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any, NamedTuple, TypeVar, cast

from cachetools import LRUCache
from flask import Flask, current_app, g, request
from sqlalchemy import BigInteger, CheckConstraint, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.core.db import Base, read_row_alone
from tracker.serving.metrics import CACHED_ANSWERS

T = TypeVar("T")


class DataVersion(Base):
    """The one row that holds the data version; triggers raise it (see migration ogc2)."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("one", name="one"),)

    one: Mapped[bool] = mapped_column(primary_key=True, server_default=true())
    version: Mapped[int] = mapped_column(BigInteger)
    places: Mapped[int] = mapped_column(BigInteger, server_default="1")


_VERSION = select(DataVersion.version)
_VERSIONS = select(DataVersion.version, DataVersion.places)


def data_version(session: Session) -> int:
    """Return the data version as this session sees it."""
    return session.execute(_VERSION).scalar_one()


def request_data_version() -> int:
    """Return the data version this request's answers are kept under, read once per request.

    Read on its own (read_row_alone), with the places version, when the request has read
    nothing yet: a kept answer is then one round trip away, not three (BEGIN, the read,
    COMMIT).
    """
    return _request_versions()[0]


def request_places_version() -> int:
    """Return the places version of this request, read with its data version."""
    return _request_versions()[1]


def _request_versions() -> tuple[int, int]:
    if "data_versions" not in g:
        row = read_row_alone(_VERSIONS, {})
        assert row is not None  # migration ogc2 writes the one row
        g.data_versions = (int(row.version), int(row.places))
    return cast(tuple[int, int], g.data_versions)


class _Kept(NamedTuple):
    answer: object
    size: int


def _kept_size(kept: _Kept) -> int:
    return kept.size


class AnswerCache:
    """A least-recently-used store bounded by the total size of its answers, in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: LRUCache[Hashable, _Kept] = LRUCache(max_bytes, getsizeof=_kept_size)
        # cachetools' caches are not thread-safe: gunicorn's threads share this one.
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """Return the answer kept under `key`, or None."""
        with self._lock:
            kept = self._entries.get(key)
        return None if kept is None else kept.answer

    def put(self, key: Hashable, answer: object, size: int) -> None:
        """Keep an answer of `size` bytes, dropping the least recently used to make room."""
        # One answer takes at most a quarter of the store: a huge one would empty it.
        if size > self.max_bytes // 4:
            return
        with self._lock:
            self._entries[key] = _Kept(answer, size)


def request_key(*parts: Hashable) -> tuple:
    """Key this request's answer by its endpoint, the parts given (who may see what, the
    day) and its query string, all but the format, which changes only the wrapping."""
    args = tuple(sorted((k, v) for k, v in request.args.items(multi=True) if k != "f"))
    return (request.endpoint, *parts, args)


def cached(
    key: Hashable,
    build: Callable[[], T],
    size: Callable[[T], int],
    version: Callable[[], int] = request_data_version,
) -> T:
    """Return the answer for `key` at this request's data version (or the `version` given,
    such as request_places_version), built once per version."""
    store: AnswerCache | None = current_app.extensions.get("answer_cache")
    if store is None:
        return build()
    # Read once per request (a page may keep several answers), from the database that
    # builds them: the primary or the replica.
    versioned = (version(), key)
    kept = store.get(versioned)
    if kept is not None:
        CACHED_ANSWERS.labels("hit").inc()
        return cast(T, kept)  # kept under this key by this function, so of the same type
    CACHED_ANSWERS.labels("miss").inc()
    answer = build()
    if answer is not None:  # nothing found is not kept: it costs as much to ask again
        store.put(versioned, answer, size(answer))
    return answer


def _versioned(key: Hashable) -> tuple | None:
    if current_app.extensions.get("answer_cache") is None:
        return None
    return (request_data_version(), key)


def kept(key: Hashable) -> Any:
    """Return the answer kept for `key` at this request's data version, or None."""
    versioned = _versioned(key)
    if versioned is None:
        return None
    answer = current_app.extensions["answer_cache"].get(versioned)
    CACHED_ANSWERS.labels("miss" if answer is None else "hit").inc()
    return answer


def keep(key: Hashable, answer: object, size: int) -> None:
    """Keep `answer` (of `size` bytes) for `key` at this request's data version."""
    versioned = _versioned(key)
    if versioned is not None:
        current_app.extensions["answer_cache"].put(versioned, answer, size)


def keeping(key: Hashable, pieces: Iterator[str], max_bytes: int) -> Iterator[bytes]:
    """Pass a streamed answer's pieces on (as UTF-8) and, if the whole came to at most
    `max_bytes`, keep it for `key` at this request's data version once the last is sent.

    Past `max_bytes` the pieces are no longer held: a large answer streams in bounded memory.
    """
    versioned = _versioned(key)
    held: list[bytes] | None = [] if versioned is not None else None
    size = 0
    for piece in pieces:
        data = piece.encode()
        size += len(data)
        if held is not None and size <= max_bytes:
            held.append(data)
        else:
            held = None
        yield data
    if held is not None and versioned is not None:
        current_app.extensions["answer_cache"].put(versioned, b"".join(held), size)


def init_app(app: Flask) -> None:
    """Give the app its store, of ANSWER_CACHE_MB megabytes (0 turns it off)."""
    megabytes = int(app.config.get("ANSWER_CACHE_MB", 128))
    if megabytes > 0:
        app.extensions["answer_cache"] = AnswerCache(megabytes * 1024 * 1024)
