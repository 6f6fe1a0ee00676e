"""Public answers a proxy and a phone may keep: Cache-Control, an ETag from the data version,
and 304 when the copy a client holds is still current.

The data version (serving.answer_cache) changes in the same commit as any change to the
works, their history, restrictions or facilities, so an answer's ETag names the version it
was read at, with whatever else it depends on (the day, the language, the query string).
The ETag is worked out before the view runs: a client or proxy holding the current copy
gets its 304 without a single query beyond the version's.
"""

import hashlib
from collections.abc import Callable, Hashable
from datetime import datetime
from functools import wraps
from typing import ParamSpec

from flask import Response, g, make_response, request
from flask.typing import ResponseReturnValue

from tracker.core import clock
from tracker.core.db import get_session
from tracker.serving.answer_cache import data_version

P = ParamSpec("P")

# What a crowd may be given from a proxy's copy: a minute old at most.
PUBLIC_MAX_AGE = 60
# Signed-in readers may see more (and their names): their browser asks again every time.
PRIVATE_CACHE_CONTROL = "private, no-cache"


def this_minute() -> datetime:
    """Return the current minute: answers that say which restrictions are in force now change
    with it (at a restriction's daily hours), not only with the data."""
    return clock.now().replace(second=0, microsecond=0)


def version_etag(*parts: Hashable) -> str:
    """Return the (unquoted) entity tag of this request's answer at the current data version."""
    if "data_version" not in g:
        g.data_version = data_version(get_session())
    args = sorted(request.args.items(multi=True))
    seed = repr((request.path, args, parts)).encode()
    digest = hashlib.blake2b(seed, digest_size=10).hexdigest()
    return f"d{g.data_version}-{digest}"


def kept_for(
    max_age: int, parts: Callable[[], tuple[Hashable, ...]], signed_in: Callable[[], bool]
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, Response]]:
    """Mark a view's answers cacheable for `max_age` seconds under a data-version ETag.

    `parts` names what else the answer depends on (the day, the language); an anonymous
    reader's answer is public (a proxy keeps it), a signed-in one's private. A client whose
    If-None-Match holds the ETag gets 304 and the view never runs.
    """

    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
        @wraps(view)
        def answer(*args: P.args, **kwargs: P.kwargs) -> Response:
            private = signed_in()
            etag = version_etag(private, *parts())
            if request.if_none_match.contains_weak(etag):
                response = Response(status=304)
            else:
                response = make_response(view(*args, **kwargs))
                if response.status_code != 200:
                    return response
            # Weak: the same answer is sent gzipped or not.
            response.set_etag(etag, weak=True)
            response.headers["Cache-Control"] = (
                PRIVATE_CACHE_CONTROL if private else f"public, max-age={max_age}"
            )
            # Who asks (a cookie) and in which language change the answer.
            response.vary.update(["Cookie", "Accept-Language", "Accept-Encoding"])
            return response

        return answer

    return decorate
