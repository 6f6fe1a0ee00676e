"""Feeds and the catalogue as caches and navigation apps like them: an ETag from the data
version, a minute's max-age, and 304 when the client's copy is current.

The data version rises in the same commit as any change to works, restrictions, shelters or
hazard zones (see tracker.serving.answer_cache), so a restriction added, changed or lifted
changes the ETag at once. The day is part of it too: a restriction whose last day has passed
leaves the feed at midnight with no change to the data.
"""

from collections.abc import Callable

from flask import Response, request

from tracker.core import clock
from tracker.serving.freshness import kept_for_a_while, version_etag


def current_tag() -> str:
    """Return the tag of what the feeds say now: the data version and the day."""
    return version_etag(clock.today())


def conditional(
    build: Callable[[], tuple[bytes, str]], headers: dict[str, str] | None = None
) -> Response:
    """Answer `build()`'s (body, mimetype), or 304 when If-None-Match names the current tag.

    The tag is weak: a body says when it was generated, which differs byte for byte between
    two answers of the same data.
    """
    tag = current_tag()
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        body, mimetype = build()
        response = Response(body, mimetype=mimetype)
    response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = kept_for_a_while()
    response.headers.update(headers or {})
    return response
